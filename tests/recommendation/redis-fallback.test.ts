/**
 * Reads go on when Redis does not answer (review of 2026-11-30, items 9 and 19): the real server on a redis-server of
 * the test's own (tests/faults/support/private-redis.ts), which the test pauses (`CLIENT PAUSE`: connections stay
 * open, nothing is answered, as a hung Redis) and then kills (connections refused).
 * - GetRecommendations serves the stored list from PostgreSQL, the same list as with Redis.
 * - GetMovie (the catalogue cache) answers from PostgreSQL; a hung Redis costs each cache call at most its 150 ms
 *   deadline, so a call answers long before the pause ends.
 */
import { randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";
import { startPrivateRedis, type PrivateRedis } from "../faults/support/private-redis.ts";

const PAUSE_MS = 8_000;
let redisServer: PrivateRedis;
let ts: TestServer;
let recs: Client<typeof RecommendationService>;
let catalog: Client<typeof CatalogService>;
let user: TestUser;
const movies: string[] = [];

beforeAll(async () => {
  redisServer = await startPrivateRedis();
  ts = await startTestServer({ env: { REDIS_URL: redisServer.url } });
  const transport = createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" });
  recs = createClient(RecommendationService, transport);
  catalog = createClient(CatalogService, transport);
  user = await createTestUser(ts.deps, { prefix: "rfb" });
  const em = ts.orm.em.fork();
  for (let k = 0; k < 5; k++) {
    const tmdb = randomInt(10_000_000, 2_000_000_000);
    const [m] = await em.execute<{ id: string }[]>(
      "insert into movies (tmdb_id, title, original_title, original_language) values (?, ?, ?, 'en') returning id::text as id",
      [tmdb, `Fallback ${tmdb}`, `Fallback ${tmdb}`],
    );
    movies.push(m!.id);
  }
  // A stored list, as the scoring job writes it: one run, one generated_at.
  await em.execute(
    "insert into user_recommendation_lists (user_id, algorithm, movie_ids, scores) values (?, 'hybrid', ?::bigint[], array(select (1 - o / 10.0)::real from generate_series(1, ?::int) o))",
    [user.userId, `{${movies.join(",")}}`, movies.length],
  );
}, 60_000);
afterAll(async () => {
  await ts?.close();
  await redisServer?.destroy();
});

async function waitForServing(): Promise<void> {
  const health = createClient(Health, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
  const until = Date.now() + 30_000;
  while ((await health.check({ service: "" }).catch(() => undefined))?.status !== HealthCheckResponse_ServingStatus.SERVING) {
    if (Date.now() > until) throw new Error("server not SERVING within 30 s of Redis coming back");
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1_000));
}

const listIds = async () => (await recs.getRecommendations({ limit: 10 }, { headers: user.headers, timeoutMs: 20_000 })).recommendations.map((r) => r.movie!.id);

describe("Redis not answering", () => {
  it("GetRecommendations and GetMovie answer from PostgreSQL while Redis is hung, each Redis call bounded", async () => {
    const expected = await listIds();
    expect(expected).toEqual(movies);
    await catalog.getMovie({ lookup: { case: "id", value: movies[0]! } });
    const admin = new Redis(redisServer.url);
    try {
      await admin.call("CLIENT", "PAUSE", String(PAUSE_MS), "ALL");
      const pausedAt = Date.now();
      let started = Date.now();
      const movie = await catalog.getMovie({ lookup: { case: "id", value: movies[1]! } }, { timeoutMs: 20_000 });
      const movieMs = Date.now() - started;
      expect(movie.movie!.id).toBe(movies[1]);
      started = Date.now();
      const ids = await listIds();
      const recsMs = Date.now() - started;
      expect(ids).toEqual(expected);
      // Both answered while Redis was still paused: nothing waited for Redis beyond a deadline.
      expect(Date.now() - pausedAt, `GetMovie ${movieMs} ms, GetRecommendations ${recsMs} ms`).toBeLessThan(PAUSE_MS - 1_000);
      // The catalogue cache waited its 150 ms for Redis (and not much more): the deadline is what ended the wait.
      expect(movieMs).toBeGreaterThanOrEqual(140);
    } finally {
      admin.disconnect();
    }
  }, 60_000);

  it("GetRecommendations serves the same stored list from PostgreSQL when Redis is down", async () => {
    const expected = await listIds();
    await redisServer.stop("SIGKILL");
    try {
      expect(await listIds()).toEqual(expected);
      const movie = await catalog.getMovie({ lookup: { case: "id", value: movies[2]! } }, { timeoutMs: 20_000 });
      expect(movie.movie!.id).toBe(movies[2]);
    } finally {
      await redisServer.start();
      // The server's own connections (cache and queues) reconnect before it is closed; a queue closed while its
      // connection is still down rejects inside BullMQ.
      await waitForServing();
    }
  }, 60_000);
});
