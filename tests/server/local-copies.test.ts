/**
 * API processes answer GetMovie and a user's cached list from their own copy for up to LOCAL_CACHE_MS (1 s), so a
 * change must still reach every process: two real server processes share PostgreSQL and Redis; a change published
 * by another process (a write through the other server, or a worker-like writer in this test) must be served well
 * within the TTL, and a change made behind every cache's back (no message) within the TTL plus slack.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { Redis } from "ioredis";
import pg from "pg";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { InteractionType } from "../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { CatalogCache, catalogKeys } from "../../src/modules/catalog/catalog-cache.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { openTestRedis } from "../support/redis.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

let a: ServerProcess;
let b: ServerProcess;
let db: pg.Client;
let redis: Redis;
const clients = (s: ServerProcess) => {
  const transport = createGrpcTransport({ baseUrl: s.baseUrl });
  return { catalog: createClient(CatalogService, transport), rec: createClient(RecommendationService, transport), user: createClient(UserService, transport) };
};
let ca: ReturnType<typeof clients>;
let cb: ReturnType<typeof clients>;
const t = randomBytes(4).toString("hex");

beforeAll(async () => {
  [a, b] = await Promise.all([startServerProcess({ LOCAL_CACHE_MS: "1000" }), startServerProcess({ LOCAL_CACHE_MS: "1000" })]);
  [ca, cb] = [clients(a), clients(b)];
  db = new pg.Client({ connectionString: inject("databaseUrl") });
  await db.connect();
  // The servers' own key prefix: this client sees their cache entries and publishes on their channel.
  redis = await openTestRedis(`${inject("redisPrefix")}:`);
});
afterAll(async () => {
  redis?.disconnect();
  await db?.end();
  expect(await Promise.all([a?.stop(), b?.stop()])).toEqual([0, 0]);
});

async function insertMovie(title: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `insert into movies (tmdb_id, title, original_title, overview, tagline, release_date, tmdb_rating, tmdb_vote_count, popularity_score, original_language, status, adult, is_active)
     values ($1, $2, $2, '', '', '2001-01-01', 7, 100, 1000000, 'en', 'Released', false, true) returning id::text as id`,
    [900_000_000 + Math.floor(Math.random() * 99_000_000), title],
  );
  return rows[0]!.id;
}

/** Reads until `done` holds of the answer; the milliseconds since `since` (fails after 3 s). */
async function msUntil<T>(read: () => Promise<T>, done: (v: T) => boolean, since: number): Promise<number> {
  for (;;) {
    if (done(await read())) return performance.now() - since;
    if (performance.now() - since > 3000) throw new Error("still the old answer 3 s after the change");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("local copies across two server processes", () => {
  it("GetMovie: a change behind every cache's back shows within the TTL, a published one at once", async () => {
    const id = await insertMovie(`Local ${t}`);
    const title = async () => (await cb.catalog.getMovie({ lookup: { case: "id", value: id } })).movie?.title;
    // Miss (loads and stores in Redis), hit (B keeps a copy), then served by the copy.
    for (let i = 0; i < 3; i++) expect(await title()).toBe(`Local ${t}`);

    // Behind the back: a new row and a new Redis generation, but no message. B still answers from its copy…
    await db.query("update movies set title = $1 where id = $2", [`Renamed ${t}`, id]);
    await redis.incr(catalogKeys.movieGeneration(id));
    const since = performance.now();
    expect(await title()).toBe(`Local ${t}`);
    // …until the copy's second is up (plus slack for a busy machine).
    expect(await msUntil(title, (v) => v === `Renamed ${t}`, since)).toBeLessThan(1000 + 600);

    // Published (what every write path does after commit): B drops its copy when the message arrives.
    for (let i = 0; i < 3; i++) expect(await title()).toBe(`Renamed ${t}`);
    await db.query("update movies set title = $1 where id = $2", [`Published ${t}`, id]);
    const published = performance.now();
    await new CatalogCache({ redis, log: createLogger({ level: "silent" }) }).invalidateMovies([id]);
    expect(await msUntil(title, (v) => v === `Published ${t}`, published)).toBeLessThan(400);
  });

  it("GetRecommendations: an interaction recorded through A leaves B's list well within the TTL", async () => {
    for (let k = 0; k < 3; k++) await insertMovie(`Popular ${t} ${k}`);
    const username = `local_${t}`;
    const reg = await ca.user.register({ username, email: `${username}@example.test`, password: `correct-horse-${t}` });
    const auth = { headers: { authorization: `Bearer ${reg.accessToken}` } };
    const list = async () => (await cb.rec.getRecommendations({ limit: 20 }, auth)).recommendations.map((r) => r.movie!.id);
    // Cold-start list: built and cached in Redis, then kept by B.
    const first = await list();
    expect(first.length).toBeGreaterThan(0);
    for (let i = 0; i < 2; i++) expect(await list()).toEqual(first);

    const seen = first[0]!;
    const since = performance.now();
    await ca.rec.recordInteraction({ movieId: seen, type: InteractionType.LIKE }, auth);
    expect(await msUntil(list, (ids) => !ids.includes(seen), since)).toBeLessThan(400);
  });
});
