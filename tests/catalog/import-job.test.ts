/**
 * The TMDb import job end to end against the replay server: genres, explicit ids with credits (Fight Club,
 * Fincher, Brad Pitt with his biography), list pages whose movies were not recorded (404 → skipped and
 * recorded), idempotent re-runs, an invalid key failing the job at once, and progress read back through
 * the RPC handlers from a real BullMQ worker. Uses a private database: the TMDb ids here are fixed.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Redis } from "ioredis";
import type pg from "pg";
import { create } from "@bufbuild/protobuf";
import { createContextValues, createHandlerContext, type HandlerContext } from "@connectrpc/connect";
import { ImportJobState, ImportKind } from "../../gen/movierec/catalog/v1/catalog_pb.js";
import { CatalogService, GetImportJobRequestSchema, StartTmdbImportRequestSchema } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { callerKey, type Caller } from "../../src/platform/caller.ts";
import { loadConfig, type Config } from "../../src/platform/config.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createQueues, type Queues } from "../../src/platform/queues.ts";
import { catalogKeys } from "../../src/modules/catalog/catalog-cache.ts";
import { createCatalogImportProcessors, tmdbClientFromConfig } from "../../src/modules/catalog/catalog.jobs.ts";
import { createCatalogImportRpc } from "../../src/modules/catalog/catalog-import.rpc.ts";
import { importJobId, runTmdbImport, type TmdbImportParams } from "../../src/modules/catalog/import-job.ts";
import { openImportPool } from "../../src/modules/catalog/import-sql.ts";
import { TmdbAuthError, type TmdbClient } from "../../src/modules/catalog/tmdb-client.ts";
import { startWorkers, type RunningWorkers } from "../../src/worker/workers.ts";
import { openTestDatabase, type MigratedDatabase } from "../db/helpers.ts";
import { startTmdbReplayServer, type TmdbReplayServer } from "../support/tmdb-replay-server.ts";
import { openTestRedis } from "../support/redis.ts";

let t: MigratedDatabase;
let pool: pg.Pool;
let replay: TmdbReplayServer;
let redis: Redis;
let config: Config;
let tmdb: TmdbClient;
const log = createLogger({ level: "silent" });

beforeAll(async () => {
  t = await openTestDatabase("catalog_tmdb_job");
  pool = openImportPool(t.db.url, 2);
  replay = await startTmdbReplayServer();
  // A prefix of this file's own: its queue and rate-limit keys are not shared with other test files.
  const prefix = `${inject("redisPrefix")}job${randomBytes(3).toString("hex")}`;
  redis = await openTestRedis(`${prefix}:`);
  config = loadConfig({
    NODE_ENV: "test",
    DATABASE_URL: t.db.url,
    REDIS_URL: inject("redisUrl"),
    REDIS_PREFIX: prefix,
    TMDB_BASE_URL: replay.baseUrl,
    TMDB_API_KEY: replay.validKey,
    TMDB_RPS: "200",
  });
  tmdb = tmdbClientFromConfig({ config, redis, log }, { baseDelayMs: 5 })!;
});
afterAll(async () => {
  await pool?.end();
  await replay?.close();
  redis?.disconnect();
  await t?.close();
});

const params = (p: Partial<TmdbImportParams>): TmdbImportParams => ({ kind: "tmdb_ids", tmdbIds: [], pages: 0, startPage: 0, includeCredits: false, ...p });
const rows = async <T extends pg.QueryResultRow>(sql: string, args: unknown[] = []) => (await pool.query<T>(sql, args)).rows;

describe("runTmdbImport", () => {
  it("imports the genre list with slugs; a re-run leaves every genre alone", async () => {
    const first = await runTmdbImport(params({ kind: "genres" }), { tmdb, pool });
    expect(first).toMatchObject({ found: 19, imported: 19, updated: 0, skipped: 0, failed: 0 });
    expect(await rows("select slug from genres where tmdb_id = 878")).toEqual([{ slug: "science-fiction" }]);
    const again = await runTmdbImport(params({ kind: "genres" }), { tmdb, pool });
    expect(again).toMatchObject({ found: 19, imported: 0, updated: 0, skipped: 19 });
  });

  it("imports a movie with credits, keywords, companies and key people; an unknown id is skipped with its reason", async () => {
    const changed: string[] = [];
    const p = await runTmdbImport(params({ tmdbIds: [550, 987654321], includeCredits: true }), { tmdb, pool, onChanged: (ids) => void changed.push(...ids) });
    expect(p).toMatchObject({ found: 2, imported: 1, updated: 0, skipped: 1, failed: 0 });
    expect(p.errors).toEqual(["movie 987654321: not found on TMDb (404), skipped"]);
    expect(changed).toHaveLength(1);

    const [movie] = await rows<{ id: string; title: string; imdb_id: string; runtime: number; tmdb_rating: string }>(
      "select id, title, imdb_id, runtime, tmdb_rating from movies where tmdb_id = 550",
    );
    expect(movie).toMatchObject({ title: "Fight Club", imdb_id: "tt0137523", runtime: 139, tmdb_rating: "8.4" });
    expect(changed).toEqual([movie!.id]);
    const directors = await rows("select p.name from movie_crew c join persons p on p.id = c.person_id where c.movie_id = $1 and c.job = 'Director'", [movie!.id]);
    expect(directors).toEqual([{ name: "David Fincher" }]);
    const cast = await rows<{ name: string; character: string; order: number }>(
      `select p.name, c."character", c."order" from movie_cast c join persons p on p.id = c.person_id where c.movie_id = $1 order by c."order" limit 2`,
      [movie!.id],
    );
    expect(cast).toEqual([
      { name: "Edward Norton", character: "Narrator", order: 0 },
      { name: "Brad Pitt", character: "Tyler Durden", order: 1 },
    ]);
    // Brad Pitt's details were recorded: biography and birthday; Edward Norton's were not (404 → credit data only).
    const [pitt] = await rows<{ biography: string; birthday: string; place_of_birth: string }>(
      "select biography, to_char(birthday, 'YYYY-MM-DD') as birthday, place_of_birth from persons where tmdb_id = 287",
    );
    expect(pitt!.biography).toMatch(/^William Bradley Pitt/);
    expect(pitt).toMatchObject({ birthday: "1963-12-18", place_of_birth: "Shawnee, Oklahoma, USA" });
    expect(await rows("select biography from persons where tmdb_id = 819")).toEqual([{ biography: "" }]);
    const [counts] = await rows<{ keywords: number; companies: number; us: number; cast: number }>(
      `select (select count(*)::int from movie_keywords where movie_id = $1) as keywords,
              (select count(*)::int from movie_production_companies where movie_id = $1) as companies,
              (select count(*)::int from production_companies where tmdb_id = 711 and origin_country = 'US') as us,
              (select count(*)::int from movie_cast where movie_id = $1) as cast`,
      [movie!.id],
    );
    expect(counts!.keywords).toBeGreaterThan(5);
    expect(counts!.companies).toBe(5);
    expect(counts!.us).toBe(1);
    expect(counts!.cast).toBe(20);
  });

  it("re-running changes nothing that did not change upstream", async () => {
    const [before] = await rows<{ updated_at: Date }>("select updated_at from movies where tmdb_id = 550");
    const links = await rows("select id from movie_cast where movie_id = (select id from movies where tmdb_id = 550) order by id");
    const p = await runTmdbImport(params({ tmdbIds: [550], includeCredits: true }), { tmdb, pool });
    expect(p).toMatchObject({ found: 1, imported: 0, updated: 0, skipped: 1, failed: 0 });
    expect((await rows<{ updated_at: Date }>("select updated_at from movies where tmdb_id = 550"))[0]).toEqual(before);
    expect(await rows("select id from movie_cast where movie_id = (select id from movies where tmdb_id = 550) order by id")).toEqual(links);
  });

  it("restores an edited movie and reports it updated", async () => {
    await pool.query("update movies set tagline = 'edited' where tmdb_id = 550");
    const p = await runTmdbImport(params({ tmdbIds: [550] }), { tmdb, pool });
    expect(p).toMatchObject({ updated: 1 });
    expect(await rows("select tagline from movies where tmdb_id = 550")).toEqual([{ tagline: "Mischief. Mayhem. Soap." }]);
  });

  it("pages a list: the listed movies TMDb cannot return are skipped and recorded", async () => {
    const p = await runTmdbImport(params({ kind: "top_rated", pages: 2, startPage: 1 }), { tmdb, pool });
    // Page 1 is recorded (20 movies, none with recorded details); page 2 is not (404 ends the paging).
    expect(p).toMatchObject({ found: 20, imported: 0, skipped: 20, failed: 0 });
    expect(p.errors[0]).toBe("page 2 of top_rated: not found on TMDb");
    expect(p.errors).toContain("movie 278: not found on TMDb (404), skipped");
  });

  it("stops on an invalid key instead of retrying", async () => {
    replay.invalidKey = true;
    try {
      const n = replay.requests.length;
      const err = await runTmdbImport(params({ tmdbIds: [550] }), { tmdb, pool }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TmdbAuthError);
      expect(replay.requests.length - n).toBe(1);
    } finally {
      replay.reset();
    }
  });

  it("fails the job when TMDb stays down for several movies in a row", async () => {
    replay.failNext({ status: 502, pathPrefix: "/movie/" }, 1000);
    try {
      const err = await runTmdbImport(params({ tmdbIds: [1, 2, 3, 4, 5, 6, 7] }), { tmdb, pool }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/5 movies failed in a row/);
    } finally {
      replay.reset();
    }
  });

  it("derives job ids from request ids: deterministic, no ':' and never all digits", () => {
    expect(importJobId("abc")).toBe(importJobId("abc"));
    expect(importJobId("abc")).not.toBe(importJobId("abd"));
    for (const id of [importJobId("abc"), importJobId(undefined), importJobId("123")]) {
      expect(id).toMatch(/^tmdb-import-[0-9a-f-]+$/);
    }
  });
});

describe("import job through BullMQ and the RPC handlers", () => {
  let queues: Queues;
  let workers: RunningWorkers;
  const staff: Caller = { kind: "user", userId: "1", isStaff: true };
  const ctx = (caller: Caller, method: "startTmdbImport" | "getImportJob"): HandlerContext => {
    const values = createContextValues().set(callerKey, caller);
    return createHandlerContext({
      service: CatalogService,
      method: CatalogService.method[method],
      protocolName: "connect",
      requestMethod: "POST",
      url: `http://localhost/${CatalogService.typeName}/${method}`,
      contextValues: values,
    });
  };

  beforeAll(() => {
    queues = createQueues(config.redisUrl, config.redisPrefix);
    workers = startWorkers({
      redisUrl: config.redisUrl,
      prefix: config.redisPrefix,
      log,
      processors: { "catalog-import": createCatalogImportProcessors({ config, log, redis }, { baseDelayMs: 5 }) },
    });
  });
  afterAll(async () => {
    await workers?.close();
    await queues?.close();
  });

  const rpc = () => createCatalogImportRpc({ config, queues });
  async function waitFor(jobId: string, done: (s: ImportJobState) => boolean) {
    for (let i = 0; i < 200; i++) {
      const res = await rpc().getImportJob!(create(GetImportJobRequestSchema, { jobId }), ctx(staff, "getImportJob"));
      if (done(res.job!.state!)) return res.job!;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("import job did not finish");
  }

  it("runs an import and reports its progress; the same request_id returns the same job", async () => {
    const requestId = randomBytes(8).toString("hex");
    const req = create(StartTmdbImportRequestSchema, { kind: ImportKind.TMDB_IDS, tmdbIds: [550, 987654321], includeCredits: true, requestId });
    const started = await rpc().startTmdbImport!(req, ctx(staff, "startTmdbImport"));
    expect(started.job).toMatchObject({ jobId: importJobId(requestId), kind: ImportKind.TMDB_IDS, tmdbIds: [550, 987654321] });
    const job = await waitFor(started.job!.jobId!, (s) => s === ImportJobState.SUCCEEDED || s === ImportJobState.FAILED);
    expect(job).toMatchObject({ state: ImportJobState.SUCCEEDED, found: 2, skipped: 2, failed: 0 });
    expect(job.errors).toEqual(["movie 987654321: not found on TMDb (404), skipped"]);
    expect(job.startedAt).toBeDefined();
    expect(job.finishedAt).toBeDefined();

    const again = await rpc().startTmdbImport!(req, ctx(staff, "startTmdbImport"));
    expect(again.job!.jobId).toBe(started.job!.jobId);
    expect(again.job!.state).toBe(ImportJobState.SUCCEEDED);
    const other = create(StartTmdbImportRequestSchema, { kind: ImportKind.GENRES, requestId });
    await expect(rpc().startTmdbImport!(other, ctx(staff, "startTmdbImport"))).rejects.toMatchObject({ name: "ConflictError" });
  });

  it("drops the changed movie from the catalogue cache (its generation moves)", async () => {
    const [{ id }] = (await pool.query<{ id: string }>("update movies set tagline = 'stale' where tmdb_id = 550 returning id")).rows as [{ id: string }];
    const before = Number((await redis.get(catalogKeys.movieGeneration(id))) ?? 0);
    const started = await rpc().startTmdbImport!(create(StartTmdbImportRequestSchema, { kind: ImportKind.TMDB_IDS, tmdbIds: [550] }), ctx(staff, "startTmdbImport"));
    const job = await waitFor(started.job!.jobId!, (s) => s === ImportJobState.SUCCEEDED || s === ImportJobState.FAILED);
    expect(job).toMatchObject({ state: ImportJobState.SUCCEEDED, updated: 1 });
    expect(Number(await redis.get(catalogKeys.movieGeneration(id)))).toBe(before + 1);
  });

  it("fails the job at once, with a clear error, when the key is invalid", async () => {
    replay.invalidKey = true;
    try {
      const started = await rpc().startTmdbImport!(create(StartTmdbImportRequestSchema, { kind: ImportKind.GENRES }), ctx(staff, "startTmdbImport"));
      const job = await waitFor(started.job!.jobId!, (s) => s === ImportJobState.FAILED || s === ImportJobState.SUCCEEDED);
      expect(job.state).toBe(ImportJobState.FAILED);
      expect(job.errors!.at(-1)).toMatch(/job failed: TMDb refused the credentials: Invalid API key/);
      const bull = await queues["catalog-import"].getJob(started.job!.jobId!);
      expect(bull!.attemptsMade).toBe(1); // UnrecoverableError: no retry although the queue allows 3 attempts
    } finally {
      replay.reset();
    }
  });

  it("is staff only, answers NOT_FOUND for unknown jobs, and FAILED_PRECONDITION without TMDb credentials", async () => {
    const anonymous: Caller = { kind: "anonymous" };
    const user: Caller = { kind: "user", userId: "2", isStaff: false };
    const genres = create(StartTmdbImportRequestSchema, { kind: ImportKind.GENRES });
    await expect(rpc().startTmdbImport!(genres, ctx(anonymous, "startTmdbImport"))).rejects.toMatchObject({ name: "UnauthenticatedError" });
    await expect(rpc().startTmdbImport!(genres, ctx(user, "startTmdbImport"))).rejects.toMatchObject({ name: "PermissionError" });
    await expect(rpc().getImportJob!(create(GetImportJobRequestSchema, { jobId: "tmdb-import-nope" }), ctx(staff, "getImportJob"))).rejects.toMatchObject({
      name: "NotFoundError",
    });
    const unconfigured = createCatalogImportRpc({ config: loadConfig({ NODE_ENV: "test" }), queues });
    await expect(unconfigured.startTmdbImport!(genres, ctx(staff, "startTmdbImport"))).rejects.toMatchObject({ name: "PreconditionError" });
  });
});
