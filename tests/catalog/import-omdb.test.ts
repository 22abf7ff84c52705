/**
 * Optional OMDb enrichment over real HTTP: a local server answering like OMDb (there is no recording of it)
 * gives Fight Club its IMDb rating during a TMDb import from the replay server; an OMDb outage or refusal
 * never fails the movie, and "N/A" keeps the stored rating. Private database.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type pg from "pg";
import type { Redis } from "ioredis";
import { createLogger } from "../../src/platform/logger.ts";
import { testConfig } from "../support/server.ts";
import { omdbClientFromConfig, tmdbClientFromConfig } from "../../src/modules/catalog/catalog.jobs.ts";
import { OmdbClient } from "../../src/modules/catalog/import-omdb.ts";
import { runTmdbImport, type TmdbImportParams } from "../../src/modules/catalog/import-job.ts";
import { openImportPool } from "../../src/modules/catalog/import-sql.ts";
import type { TmdbClient } from "../../src/modules/catalog/tmdb-client.ts";
import { openTestDatabase, type MigratedDatabase } from "../db/helpers.ts";
import { startTmdbReplayServer, type TmdbReplayServer } from "../support/tmdb-replay-server.ts";
import { openTestRedis } from "../support/redis.ts";

let t: MigratedDatabase;
let pool: pg.Pool;
let replay: TmdbReplayServer;
let redis: Redis;
let tmdb: TmdbClient;
let omdbServer: Server;
let omdbUrl: string;
/** What the OMDb stand-in answers next: a status and a body. */
let answer: { status: number; body: unknown } = { status: 200, body: {} };
const seen: string[] = [];

beforeAll(async () => {
  t = await openTestDatabase("catalog_omdb");
  pool = openImportPool(t.db.url, 2);
  replay = await startTmdbReplayServer();
  redis = await openTestRedis(`${inject("redisPrefix")}:omdb:`);
  const config = testConfig({ TMDB_BASE_URL: replay.baseUrl, TMDB_API_KEY: replay.validKey });
  tmdb = tmdbClientFromConfig({ config, redis, log: createLogger({ level: "silent" }) })!;
  omdbServer = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://omdb");
    seen.push(`${url.searchParams.get("i")} ${url.searchParams.get("apikey")}`);
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((r) => omdbServer.listen(0, "127.0.0.1", r));
  omdbUrl = `http://127.0.0.1:${(omdbServer.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await pool?.end();
  await replay?.close();
  redis?.disconnect();
  await new Promise((r) => omdbServer?.close(r));
  await t?.close();
});

const fightClub: TmdbImportParams = { kind: "tmdb_ids", tmdbIds: [550], pages: 0, startPage: 0, includeCredits: false };
const rating = async () => (await pool.query<{ imdb_rating: string | null }>("select imdb_rating from movies where tmdb_id = 550")).rows[0]?.imdb_rating;

describe("OMDb enrichment", () => {
  it("is off without OMDB_API_KEY and on with it", () => {
    expect(omdbClientFromConfig(testConfig())).toBeUndefined();
    expect(omdbClientFromConfig(testConfig({ OMDB_API_KEY: "k" }))).toBeInstanceOf(OmdbClient);
  });

  it("stores the IMDb rating of an imported movie, asked by its IMDb id with the key", async () => {
    answer = { status: 200, body: { Title: "Fight Club", imdbRating: "8.8", Response: "True" } };
    const omdb = new OmdbClient({ baseUrl: omdbUrl, apiKey: "omdb-key" });
    const p = await runTmdbImport(fightClub, { tmdb, pool, omdb });
    expect(p).toMatchObject({ imported: 1, failed: 0, errors: [] });
    expect(seen.at(-1)).toBe("tt0137523 omdb-key");
    expect(await rating()).toBe("8.8");
  });

  it("keeps the stored rating when OMDb has none, and imports the movie anyway when OMDb refuses", async () => {
    answer = { status: 200, body: { imdbRating: "N/A", Response: "True" } };
    const omdb = new OmdbClient({ baseUrl: omdbUrl, apiKey: "omdb-key" });
    expect(await runTmdbImport(fightClub, { tmdb, pool, omdb })).toMatchObject({ skipped: 1, errors: [] });
    expect(await rating()).toBe("8.8");

    answer = { status: 401, body: { Response: "False", Error: "Invalid API key!" } };
    const p = await runTmdbImport(fightClub, { tmdb, pool, omdb });
    expect(p).toMatchObject({ skipped: 1, failed: 0 });
    expect(p.errors).toEqual(["movie 550: no IMDb rating: OMDb refused tt0137523: Invalid API key!"]);
    expect(await rating()).toBe("8.8");
  });
});
