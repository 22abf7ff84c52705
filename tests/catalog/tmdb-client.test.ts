/**
 * The TMDb client over real HTTP against the replay server: credentials, retries with backoff on 429
 * (honouring Retry-After) and 5xx, 401 and 404 as typed errors, and the rate limit shared through Redis.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Redis } from "ioredis";
import { ConfigError, loadConfig } from "../../src/platform/config.ts";
import { createRedis } from "../../src/platform/redis.ts";
import { TmdbAuthError, TmdbClient, TmdbNotFoundError, TmdbRequestError } from "../../src/modules/catalog/tmdb-client.ts";
import { localRateLimiter, redisRateLimiter } from "../../src/modules/catalog/tmdb-rate-limit.ts";
import { startTmdbReplayServer, type TmdbReplayServer } from "../support/tmdb-replay-server.ts";
import { openTestRedis } from "../support/redis.ts";

let replay: TmdbReplayServer;
let redis: Redis;

beforeAll(async () => {
  replay = await startTmdbReplayServer();
  redis = await openTestRedis(`${inject("redisPrefix")}:`);
});
afterAll(async () => {
  await replay?.close();
  redis?.disconnect();
});

const unlimited = { acquire: async () => {} };
const client = (extra: Partial<ConstructorParameters<typeof TmdbClient>[0]> = {}) =>
  new TmdbClient({ baseUrl: replay.baseUrl, apiKey: replay.validKey, limiter: unlimited, baseDelayMs: 5, ...extra });
const since = (n: number) => replay.requests.slice(n);

describe("TMDb client", () => {
  it("reads a recorded response with an API key, and with a bearer token", async () => {
    const n = replay.requests.length;
    const genres = await client().genres();
    expect(genres.genres).toContainEqual({ id: 878, name: "Science Fiction" });
    const movie = await new TmdbClient({ baseUrl: replay.baseUrl, bearerToken: replay.validKey, limiter: unlimited }).movie(550);
    expect(movie).toMatchObject({ id: 550, title: "Fight Club", imdb_id: "tt0137523" });
    expect(since(n).map((r) => [r.path, r.status, r.auth])).toEqual([
      ["/genre/movie/list", 200, replay.validKey],
      ["/movie/550", 200, replay.validKey],
    ]);
  });

  it("retries a 429 after the Retry-After delay it was given", async () => {
    const n = replay.requests.length;
    replay.failNext({ status: 429, retryAfter: "1", pathPrefix: "/movie/550" });
    const movie = await client().movie(550);
    expect(movie.id).toBe(550);
    const [limited, ok] = since(n);
    expect([limited!.status, ok!.status]).toEqual([429, 200]);
    expect(ok!.at - limited!.at).toBeGreaterThanOrEqual(950);
  });

  it("retries 5xx with growing delays, then gives up with a transient error", async () => {
    const n = replay.requests.length;
    replay.failNext({ status: 503, pathPrefix: "/movie/550/credits" }, 2);
    const retries: number[] = [];
    const credits = await client({ onRetry: (i) => retries.push(i.attempt) }).credits(550);
    expect(credits.cast.find((c) => c.name === "Brad Pitt")).toMatchObject({ character: "Tyler Durden" });
    expect(retries).toEqual([1, 2]);
    expect(since(n).map((r) => r.status)).toEqual([503, 503, 200]);

    replay.failNext({ status: 500, pathPrefix: "/movie/550/keywords" }, 10);
    const err = await client({ maxAttempts: 3 }).keywords(550).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TmdbRequestError);
    expect(err).toMatchObject({ status: 500, transient: true });
    expect((err as Error).message).toMatch(/gave up after 3 attempts/);
    replay.reset(); // the failures left unused must not leak into the next test
  });

  it("stops at once on 401 with TMDb's message, and reports 404 as not found", async () => {
    const n = replay.requests.length;
    const bad = await new TmdbClient({ baseUrl: replay.baseUrl, apiKey: "wrong", limiter: unlimited }).movie(550).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(TmdbAuthError);
    expect((bad as Error).message).toMatch(/Invalid API key: You must be granted a valid key/);
    expect(since(n)).toHaveLength(1); // no retry

    const missing = await client().movie(424242).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TmdbNotFoundError);
    expect((missing as Error).message).toMatch(/could not be found/);
  });

  it("refuses to start without credentials", () => {
    expect(() => new TmdbClient({ baseUrl: replay.baseUrl, limiter: unlimited })).toThrow(/API key or a bearer token/);
  });
});

describe("shared rate limit", () => {
  it("holds two limiters on one Redis key to the rate together", async () => {
    const key = `test:tmdb:${randomBytes(4).toString("hex")}`;
    const a = redisRateLimiter(redis, { key, rate: 50, burst: 1 });
    const b = redisRateLimiter(redis, { key, rate: 50, burst: 1 });
    const started = performance.now();
    await Promise.all([...Array.from({ length: 15 }, () => a.acquire()), ...Array.from({ length: 15 }, () => b.acquire())]);
    const elapsed = performance.now() - started;
    // 30 tokens at 50/s with a burst of 1: at least 29/50 s, whichever worker takes them.
    expect(elapsed).toBeGreaterThanOrEqual(29 * 20 - 30);
  });

  it("spaces the client's requests", async () => {
    const key = `test:tmdb:${randomBytes(4).toString("hex")}`;
    const n = replay.requests.length;
    const limited = client({ limiter: redisRateLimiter(redis, { key, rate: 20, burst: 1 }) });
    await Promise.all(Array.from({ length: 6 }, () => limited.genres()));
    const times = since(n).map((r) => r.at);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(5 * 50 - 20);
  });

  it("falls back to a per-process bucket when Redis is unreachable", async () => {
    const down = createRedis("redis://127.0.0.1:1");
    down.on("error", () => {});
    const degraded: unknown[] = [];
    try {
      const limiter = redisRateLimiter(down, { key: "x", rate: 100, burst: 1, onDegraded: (e) => degraded.push(e) });
      const started = performance.now();
      for (let i = 0; i < 5; i++) await limiter.acquire();
      expect(degraded).toHaveLength(1);
      expect(performance.now() - started).toBeGreaterThanOrEqual(4 * 10 - 5);
    } finally {
      down.disconnect();
    }
  });

  it("the local bucket allows its burst at once", async () => {
    const limiter = localRateLimiter(1, 3);
    const started = performance.now();
    for (let i = 0; i < 3; i++) await limiter.acquire();
    expect(performance.now() - started).toBeLessThan(100);
  });
});

describe("configuration", () => {
  it("reads the TMDb and OMDb variables with safe defaults", () => {
    const c = loadConfig({ NODE_ENV: "test" });
    expect(c.tmdb).toEqual({
      baseUrl: "https://api.themoviedb.org/3", apiKey: undefined, bearerToken: undefined, requestsPerSecond: 40,
      omdbBaseUrl: "https://www.omdbapi.com/", omdbApiKey: undefined,
    });
    const set = loadConfig({ NODE_ENV: "test", TMDB_BASE_URL: "http://127.0.0.1:9/3/", TMDB_API_KEY: "k", TMDB_RPS: "10", OMDB_API_KEY: "o" });
    expect(set.tmdb).toMatchObject({ baseUrl: "http://127.0.0.1:9/3", apiKey: "k", requestsPerSecond: 10, omdbApiKey: "o" });
    expect(() => loadConfig({ NODE_ENV: "test", TMDB_RPS: "0" })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: "test", TMDB_BASE_URL: "ftp://x" })).toThrow(/TMDB_BASE_URL/);
  });
});
