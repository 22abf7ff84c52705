/**
 * The newcomer's journey on a fresh demo, end to end: `npm run demo` (real npm script, real server and worker
 * processes, a database seeded with the demo catalogue and population) trains at start without being asked,
 * and a user who registers and likes three movies gets a personalised, explained list (ALGORITHM_HYBRID,
 * "Because you liked …") from the first GetRecommendations, within a second. Trending is not empty. Then SIGINT
 * to npm stops every process the demo started.
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../../src/platform/dev-infra-process.ts";
import { connectCall } from "../../src/demo/demo-journey.ts";
import { createTestDatabase } from "../support/database.ts";
import { commandOf, descendants, listening, startDemo, waitAllGone } from "../support/demo-process.ts";

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const REC = "movierec.recommendation.v1.RecommendationService";

describe("npm run demo: a newcomer's first minute", () => {
  it("trains at start; three likes give a personalised, explained hybrid list within a second; SIGINT stops it all", { timeout: 300_000 }, async () => {
    const db = await createTestDatabase("movierec_demo", inject("adminDatabaseUrl"));
    cleanups.push(() => db.drop());
    const port = await freePort();
    const demo = startDemo(["--port", String(port), "--database-url", db.url, "--redis-url", inject("redisUrl")], {
      REDIS_PREFIX: `mrdemo${randomBytes(4).toString("hex")}`,
      LOG_LEVEL: "warn",
    });
    cleanups.push(async () => void demo.npm.kill("SIGKILL"));
    await demo.waitFor(/Stop with Ctrl-C/, 240_000);
    const base = `http://127.0.0.1:${port}`;

    // The demo's own printout: the population, and the journey it ran live.
    expect(demo.output()).toMatch(/Demo population: 300 synthetic viewers in 6 taste groups/);
    expect(demo.output()).toMatch(/GetRecommendations → ALGORITHM_HYBRID/);
    expect(demo.output()).toMatch(/Because you liked /);

    // A fresh demo has trending movies.
    const trending = await connectCall<{ movies: unknown[] }>(base, `${REC}/GetTrendingMovies`, { window: "TRENDING_WINDOW_WEEK", limit: 10 });
    expect(trending.movies.length).toBeGreaterThan(0);

    // Our own newcomer, step by step as the README shows it.
    const username = `journey_${randomBytes(3).toString("hex")}`;
    const password = "correct-horse-battery";
    await connectCall(base, "movierec.user.v1.UserService/Register", { username, email: `${username}@example.com`, password });
    const { accessToken: token } = await connectCall<{ accessToken: string }>(base, "movierec.user.v1.UserService/Login", { login: username, password });
    const before = await connectCall<{ algorithm: string }>(base, `${REC}/GetRecommendations`, { limit: 5 }, token);
    expect(before.algorithm).toBe("ALGORITHM_TRENDING"); // nothing liked yet: the cold-start list

    const { genres } = await connectCall<{ genres: { id: string; name: string }[] }>(base, "movierec.catalog.v1.CatalogService/ListGenres", { pageSize: 100 });
    const drama = genres.find((g) => g.name === "Drama")!;
    const { movies } = await connectCall<{ movies: { id: string; title: string }[] }>(base, "movierec.catalog.v1.CatalogService/ListMovies", { pageSize: 3, genreIds: [drama.id] });
    expect(movies).toHaveLength(3);
    for (const m of movies) await connectCall(base, `${REC}/RecordInteraction`, { movieId: m.id, type: "INTERACTION_TYPE_LIKE" }, token);

    const started = performance.now();
    const recs = await connectCall<{ algorithm: string; recommendations: { movie: { id: string; title: string }; reason: string }[] }>(base, `${REC}/GetRecommendations`, { limit: 10 }, token);
    const millis = performance.now() - started;
    expect(recs.algorithm).toBe("ALGORITHM_HYBRID");
    expect(millis).toBeLessThan(1000);
    expect(recs.recommendations.length).toBeGreaterThanOrEqual(5);
    const liked = new Set(movies.map((m) => m.title));
    // Never the liked movies themselves; most items explained by one of them.
    expect(recs.recommendations.some((r) => movies.some((m) => m.id === r.movie.id))).toBe(false);
    const explained = recs.recommendations.filter((r) => r.reason.startsWith("Because you liked ") && liked.has(r.reason.slice("Because you liked ".length)));
    expect(explained.length).toBeGreaterThanOrEqual(Math.ceil(recs.recommendations.length / 2));

    // RefreshRecommendations is accepted and the list stays personalised.
    await connectCall(base, `${REC}/RefreshRecommendations`, {}, token);
    expect((await connectCall<{ algorithm: string }>(base, `${REC}/GetRecommendations`, { limit: 5 }, token)).algorithm).toBe("ALGORITHM_HYBRID");

    const pids = descendants(demo.npm.pid!);
    expect(pids.map(commandOf).join("\n")).toMatch(/src\/main\.ts worker/);
    demo.npm.kill("SIGINT");
    expect(await waitAllGone(pids, 30_000)).toEqual([]);
    expect(await listening(port)).toBe(false);
  });
});
