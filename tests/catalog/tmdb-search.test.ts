/**
 * The "done when" for the TMDb import, through the real server and a Connect client: after importing
 * Fight Club from the replay server, "Fincher" and "Brad Pitt" find it, GetPerson shows Brad Pitt's biography
 * and ListPersonCredits his role. Also: StartTmdbImport over the wire needs a staff caller. Private database.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type pg from "pg";
import { ImportKind } from "../../gen/movierec/catalog/v1/catalog_pb.js";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { createLogger } from "../../src/platform/logger.ts";
import { tmdbClientFromConfig } from "../../src/modules/catalog/catalog.jobs.ts";
import { runTmdbImport } from "../../src/modules/catalog/import-job.ts";
import { openImportPool } from "../../src/modules/catalog/import-sql.ts";
import { openTestDatabase, type MigratedDatabase } from "../db/helpers.ts";
import { startTestServer, testConfig, type TestServer } from "../support/server.ts";
import { startTmdbReplayServer, type TmdbReplayServer } from "../support/tmdb-replay-server.ts";
import { openTestRedis } from "../support/redis.ts";

let t: MigratedDatabase;
let replay: TmdbReplayServer;
let server: TestServer;
let pool: pg.Pool;
let client: Client<typeof CatalogService>;

beforeAll(async () => {
  t = await openTestDatabase("catalog_tmdb_search");
  replay = await startTmdbReplayServer();
  const env = { DATABASE_URL: t.db.url, TMDB_BASE_URL: replay.baseUrl, TMDB_API_KEY: replay.validKey };
  server = await startTestServer({ env });
  client = createClient(CatalogService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
  pool = openImportPool(t.db.url, 2);
  const redis = await openTestRedis(`${inject("redisPrefix")}:tmdbsearch:`);
  try {
    const tmdb = tmdbClientFromConfig({ config: testConfig(env), redis, log: createLogger({ level: "silent" }) })!;
    await runTmdbImport({ kind: "tmdb_ids", tmdbIds: [550], pages: 0, startPage: 0, includeCredits: true }, { tmdb, pool });
  } finally {
    redis.disconnect();
  }
});
afterAll(async () => {
  await pool?.end();
  await server?.close();
  await replay?.close();
  await t?.close();
});

describe("after a TMDb import of Fight Club", () => {
  it("finds it by its director and by an actor", async () => {
    for (const query of ["Fincher", "Brad Pitt", "fight club"]) {
      const res = await client.searchMovies({ query, pageSize: 5 });
      expect(res.movies.map((m) => m.title), query).toContain("Fight Club");
    }
  });

  it("GetPerson shows Brad Pitt's biography and ListPersonCredits his role", async () => {
    const { person, knownFor } = await client.getPerson({ lookup: { case: "tmdbId", value: 287 } });
    expect(person).toMatchObject({ name: "Brad Pitt", birthday: "1963-12-18", placeOfBirth: "Shawnee, Oklahoma, USA" });
    expect(person!.biography).toMatch(/^William Bradley Pitt/);
    expect(knownFor.map((m) => m.title)).toContain("Fight Club");
    const credits = await client.listPersonCredits({ personId: person!.id });
    const fightClub = credits.credits.find((c) => c.movie?.title === "Fight Club");
    expect(fightClub?.role).toMatchObject({ case: "cast", value: { character: "Tyler Durden", order: 1 } });
  });

  it("refuses StartTmdbImport from an anonymous caller", async () => {
    const err = await client.startTmdbImport({ kind: ImportKind.GENRES }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
  });
});
