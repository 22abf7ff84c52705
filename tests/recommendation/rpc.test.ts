/** RecommendationService through the real server, with real sign-ins (Connect over HTTP/1.1). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Algorithm, InteractionType } from "../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { RecommendationService, TrendingWindow } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";
import { seedGenre, seedMovie } from "./fixtures.ts";

let ts: TestServer;
let client: Client<typeof RecommendationService>;
let alice: TestUser;
beforeAll(async () => {
  ts = await startTestServer();
  client = createClient(RecommendationService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
  alice = await createTestUser(ts.deps, { prefix: "rec" });
});
afterAll(async () => ts.close());

describe("RecommendationService", () => {
  it("records, lists and deletes the caller's interactions, and needs a sign-in", async () => {
    const m = await seedMovie(ts.orm);
    const rec = await client.recordInteraction({ movieId: m, type: InteractionType.RATING, rating: 4 }, { headers: alice.headers });
    expect(rec.created).toBe(true);
    expect(rec.interaction?.rating).toBe(4);
    const list = await client.listInteractions({ type: InteractionType.RATING }, { headers: alice.headers });
    expect(list.interactions.map((i) => i.movieId)).toEqual([m]);
    expect(list.interactions[0].movie?.id).toBe(m);
    const del = await client.deleteInteraction({ target: { case: "key", value: { movieId: m, type: InteractionType.RATING } } }, { headers: alice.headers });
    expect(del.deleted).toBe(true);
    const err = await client.recordInteraction({ movieId: m, type: InteractionType.VIEW }).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.Unauthenticated);
  });

  it("refuses a rating without the rating type before touching the database", async () => {
    const m = await seedMovie(ts.orm);
    const err = await client.recordInteraction({ movieId: m, type: InteractionType.LIKE, rating: 3 }, { headers: alice.headers }).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.InvalidArgument);
  });

  it("serves a new user the cold-start list at once", async () => {
    await seedMovie(ts.orm);
    const bob = await createTestUser(ts.deps, { prefix: "rec" });
    const got = await client.getRecommendations({ limit: 5 }, { headers: bob.headers });
    expect(got.algorithm).toBe(Algorithm.TRENDING);
    expect(got.recommendations.length).toBeGreaterThan(0);
    expect(got.recommendations[0].reason).not.toBe("");
  });

  it("answers trending and similar movies to anonymous callers", async () => {
    const g = await seedGenre(ts.orm);
    const [a, b] = [await seedMovie(ts.orm, undefined, [g]), await seedMovie(ts.orm, undefined, [g])];
    for (const movieId of [a, b]) await client.recordInteraction({ movieId, type: InteractionType.LIKE }, { headers: alice.headers });
    const trending = await client.getTrendingMovies({ window: TrendingWindow.DAY, genreId: g });
    expect(trending.movies.map((t) => t.movie?.id).sort()).toEqual([a, b].sort());
    expect(trending.movies[0].score).toBe(1);
    const similar = await client.getSimilarMovies({ movieId: a });
    expect(similar.movies[0].movie?.id).toBe(b);
    expect(similar.movies.map((s) => s.movie?.id)).not.toContain(a);
    expect(similar.movies[0].reason).toMatch(/also watched/);
  });
});
