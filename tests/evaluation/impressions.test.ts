/**
 * Impressions really shown (issue 14, items 1, 2 and the CTR fix): a served list is recorded once per request id
 * with positions and algorithm, in batches; clicks and conversions are attributed to the impression; the CTR report
 * counts shown impressions, not generated rows.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AnalyticsService } from "../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { Algorithm, InteractionType } from "../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { createImpressionRecorder } from "../../src/modules/evaluation/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";
import { seedMovie } from "../recommendation/fixtures.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

let ts: TestServer;
let recs: Client<typeof RecommendationService>;
let analytics: Client<typeof AnalyticsService>;
let staff: TestUser;

beforeAll(async () => {
  ts = await startTestServer({ env: { IMPRESSION_FLUSH_MS: "50" } });
  const transport = createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" });
  recs = createClient(RecommendationService, transport);
  analytics = createClient(AnalyticsService, transport);
  staff = await createTestUser(ts.deps, { staff: true });
});
afterAll(async () => ts?.close());

type Row = Record<string, unknown>;
const q = (sql: string, params: unknown[] = []) => ts.orm.em.fork().execute<Row[]>(sql, params);
async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("shown impressions", () => {
  it("records a served list once per request id, attributes a click and a conversion, and the CTR report counts what was shown", async () => {
    const user = await createTestUser(ts.deps);
    const movies = [await seedMovie(ts.orm), await seedMovie(ts.orm), await seedMovie(ts.orm), await seedMovie(ts.orm)];
    // Four generated rows used to be four "impressions"; the user is shown 3.
    // One list, as the scoring job writes it: serving reads the latest one.
    await q(
      "insert into user_recommendation_lists (user_id, algorithm, movie_ids, scores) values (?, 'hybrid', ?::bigint[], '{0.8,0.7,0.6,0.5}')",
      [user.userId, `{${movies.join(",")}}`],
    );
    const requestId = `imp-${randomBytes(4).toString("hex")}`;
    const opts = { headers: { ...user.headers, "x-request-id": requestId } };
    const served = await recs.getRecommendations({ limit: 3, algorithm: Algorithm.HYBRID }, opts);
    expect(served.recommendations).toHaveLength(3);
    await recs.getRecommendations({ limit: 3, algorithm: Algorithm.HYBRID }, opts); // a retry: same request id

    const rows = await until(
      () => q("select movie_id::text as movie_id, position, algorithm, surface, request_key from recommendation_impressions where user_id = ? order by position", [user.userId]),
      (r) => r.length >= 3,
    );
    await new Promise((r) => setTimeout(r, 150)); // the retry's batch has been written too
    const again = await q("select count(*)::int as n from recommendation_impressions where user_id = ?", [user.userId]);
    expect(again[0]!.n).toBe(3);
    expect(rows.map((r) => r.movie_id)).toEqual(served.recommendations.map((r) => r.movie!.id));
    expect(rows.map((r) => r.position)).toEqual([0, 1, 2]);
    expect(rows[0]).toMatchObject({ algorithm: "hybrid", surface: "recommendations", request_key: `recommendations:${user.userId}:${requestId}` });

    // A click on the second item and a like (a conversion) of the third; a dislike converts nothing.
    await recs.recordRecommendationClick({ recommendationId: served.recommendations[1]!.id }, { headers: user.headers });
    await recs.recordInteraction({ movieId: served.recommendations[2]!.movie!.id, type: InteractionType.LIKE }, { headers: user.headers });
    await recs.recordInteraction({ movieId: served.recommendations[0]!.movie!.id, type: InteractionType.DISLIKE }, { headers: user.headers });
    const outcomes = await q(
      "select position, clicked_at is not null as clicked, conversion_type from recommendation_impressions where user_id = ? order by position",
      [user.userId],
    );
    expect(outcomes).toEqual([
      { position: 0, clicked: false, conversion_type: null },
      { position: 1, clicked: true, conversion_type: null },
      { position: 2, clicked: false, conversion_type: "like" },
    ]);

    // The report on a day of our own (moved there so other files' impressions do not count): 3 shown, 1 click.
    await q("update recommendation_impressions set shown_at = '2001-02-03T12:00:00Z' where user_id = ?", [user.userId]);
    const ctr = await analytics.getRecommendationCtr({ startDate: "2001-02-03", endDate: "2001-02-03", algorithm: Algorithm.HYBRID }, { headers: staff.headers });
    expect(ctr.points).toHaveLength(1);
    expect(ctr.points[0]).toMatchObject({ date: "2001-02-03", algorithm: Algorithm.HYBRID, impressions: 3, clicks: 1 });
    expect(ctr.points[0]!.ctr).toBeCloseTo(1 / 3, 6);
  });

  it("trending lists of anonymous callers are recorded too", async () => {
    const requestId = `imp-anon-${randomBytes(4).toString("hex")}`;
    const list = await recs.getTrendingMovies({ limit: 5 }, { headers: { "x-request-id": requestId } });
    const rows = await until(() => q("select user_id from recommendation_impressions where request_key = ?", [`trending:anon:${requestId}`]), (r) => r.length >= list.movies.length);
    expect(rows).toHaveLength(list.movies.length);
  });

  it("the recorder writes many lists in one statement and ignores a batch written twice", async () => {
    const pool = () => ts.orm.em.getConnection().getNativeClient();
    const recorder = createImpressionRecorder({ pool, log: createLogger({ level: "silent" }), flushMs: 60_000, maxBuffer: 1_000_000 });
    const user = await createTestUser(ts.deps);
    const m = [await seedMovie(ts.orm), await seedMovie(ts.orm)];
    for (let i = 0; i < 50; i++) recorder.record({ surface: "recommendations", userId: user.userId, requestId: `r${i}`, algorithm: "hybrid", movieIds: m });
    recorder.record({ surface: "recommendations", userId: user.userId, requestId: "r0", algorithm: "hybrid", movieIds: m }); // a retry
    expect(recorder.pending).toBe(102);
    await recorder.close();
    expect(recorder.pending).toBe(0);
    expect((await q("select count(*)::int as n from recommendation_impressions where user_id = ?", [user.userId]))[0]!.n).toBe(100);
  });

  it("a batch holding a movie deleted since it was shown keeps its other rows", async () => {
    const pool = () => ts.orm.em.getConnection().getNativeClient();
    const recorder = createImpressionRecorder({ pool, log: createLogger({ level: "silent" }), flushMs: 60_000, maxBuffer: 1_000_000 });
    const user = await createTestUser(ts.deps);
    const [kept, gone] = [await seedMovie(ts.orm), await seedMovie(ts.orm)];
    recorder.record({ surface: "recommendations", userId: user.userId, requestId: "d1", algorithm: "hybrid", movieIds: [kept, gone] });
    recorder.record({ surface: "recommendations", userId: user.userId, requestId: "d2", algorithm: "hybrid", movieIds: [kept] });
    await q("delete from movies where id = ?", [gone]);
    await recorder.close();
    const rows = await q("select request_key, movie_id::text as m, position from recommendation_impressions where user_id = ? order by request_key, position", [user.userId]);
    expect(rows.map((r) => [String(r.request_key).split(":").pop(), r.m, r.position])).toEqual([["d1", kept, 0], ["d2", kept, 0]]);
  });
});
