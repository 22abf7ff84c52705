/**
 * Impressions beyond the API's lists (issue 14, item 1): a queued digest records its picks and new releases, an alert
 * its movie per channel, once per notification (re-queuing records nothing); a tracked click on a movie link in a
 * notification is attributed to that impression. And buffered impressions are written when the server stops
 * gracefully, not lost with the process.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { createEvaluationModule, type EvaluationModule } from "../../src/modules/evaluation/index.ts";
import { createNotificationModule } from "../../src/modules/notification/index.ts";
import { openOrm } from "../../src/platform/orm.ts";
import { createTestUser } from "../auth/test-users.ts";
import { makeTemplate, type NotificationModule } from "../notification/helpers.ts";
import { seedMovie } from "../recommendation/fixtures.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

let ts: TestServer;
let evaluation: EvaluationModule;
let m: NotificationModule;

beforeAll(async () => {
  ts = await startTestServer({ env: { REDIS_PREFIX: `${inject("redisPrefix")}evnot`, IMPRESSION_FLUSH_MS: "60000" } });
  // The worker's wiring (src/worker/processors.ts): the notification module reports to an evaluation module.
  evaluation = createEvaluationModule(ts.deps);
  m = createNotificationModule({ ...ts.deps, evaluation: evaluation.notificationHooks });
});
afterAll(async () => {
  await evaluation?.recorder.close();
  await ts?.close();
});

type Row = Record<string, unknown>;
const q = (sql: string, params: unknown[] = []) => ts.orm.em.fork().execute<Row[]>(sql, params);

describe("notification impressions", () => {
  it("a queued digest records its picks and new releases once; a re-run of the window records nothing more", async () => {
    const user = await createTestUser(ts.deps);
    const [a, b] = [await seedMovie(ts.orm), await seedMovie(ts.orm)];
    await q("insert into user_recommendation_lists (user_id, algorithm, movie_ids, scores) values (?, 'hybrid', ?::bigint[], '{0.9,0.8}')", [user.userId, `{${a},${b}}`]);
    // A zone and time of this test's own (the database is shared): Wednesday 04:17 in Pacific/Chatham.
    await m.preferences.update(user.userId, { digestDay: 3, digestTime: "04:17", timezone: "Pacific/Chatham" });
    const from = new Date("2025-06-10T15:30:00Z"); // Wednesday 11 June 04:15 in Chatham (UTC+12:45)
    const to = new Date("2025-06-10T15:45:00Z");
    expect((await m.digests.runWindow(from, to)).due).toBeGreaterThanOrEqual(1);
    await m.digests.runWindow(from, to); // the same window again: the idempotency key makes it a duplicate
    await evaluation.recorder.flush();
    const rows = await q("select movie_id::text as movie_id, position, algorithm, request_key from recommendation_impressions where user_id = ? and surface = 'digest' order by algorithm, position", [user.userId]);
    expect(rows).toEqual([
      { movie_id: a, position: 0, algorithm: "digest_picks", request_key: `digest:${user.userId}:digest:${user.userId}:2025-W24` },
      { movie_id: b, position: 1, algorithm: "digest_picks", request_key: `digest:${user.userId}:digest:${user.userId}:2025-W24` },
    ]);
  });

  it("an alert records its movie per channel; a tracked click on its movie link marks that impression clicked", async () => {
    const user = await createTestUser(ts.deps);
    const movie = await seedMovie(ts.orm);
    await makeTemplate(m, "email_trending", { subject: "Trending: {{movie.title}}", text: "{{movie.title}} {{movie.url}}", active: true });
    await m.preferences.update(user.userId, { flags: { trending_alerts: true } });
    const results = await m.alerts.send("trending", [user.userId], { id: movie, title: "Hot" });
    await m.alerts.send("trending", [user.userId], { id: movie, title: "Hot" }); // a duplicate
    await evaluation.recorder.flush();
    const rows = await q("select movie_id::text as movie_id, algorithm, request_key, clicked_at from recommendation_impressions where user_id = ? and surface = 'alert'", [user.userId]);
    expect(rows).toEqual([{ movie_id: movie, algorithm: "trending", request_key: `alert:${user.userId}:trending_alert:${user.userId}:${movie}:email`, clicked_at: null }]);

    // The reader clicks the movie link in the email: the server's tracking endpoint redirects and attributes the click.
    const logId = results.get(`trending_alert:${user.userId}:${movie}:email`)!.logs[0]!.id;
    const target = `${ts.deps.config.notification.publicBaseUrl}/movies/${movie}`;
    const res = await fetch(`${ts.baseUrl}${new URL(m.links.click(logId, target)).pathname}${new URL(m.links.click(logId, target)).search}`, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(target);
    const end = Date.now() + 5000;
    let clicked: Row[] = [];
    while (Date.now() < end) {
      clicked = await q("select 1 from recommendation_impressions where user_id = ? and surface = 'alert' and clicked_at is not null", [user.userId]);
      if (clicked.length > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(clicked).toHaveLength(1);
  });
});

describe("graceful shutdown", () => {
  it("writes the impressions still buffered (a flush interval of a minute has not come)", async () => {
    const server = await startTestServer({ env: { REDIS_PREFIX: `${inject("redisPrefix")}evnot2`, IMPRESSION_FLUSH_MS: "60000" } });
    const requestId = `shutdown-${randomBytes(4).toString("hex")}`;
    const recs = createClient(RecommendationService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
    const user = await createTestUser(server.deps);
    for (let i = 0; i < 3; i++) await seedMovie(server.orm);
    const list = await recs.getRecommendations({ limit: 3 }, { headers: { ...user.headers, "x-request-id": requestId } });
    expect(list.recommendations).toHaveLength(3);
    const key = `recommendations:${user.userId}:${requestId}`;
    const count = async () => (await q("select count(*)::int as n from recommendation_impressions where request_key = ?", [key]))[0]!.n;
    expect(await count()).toBe(0); // still in the buffer
    await server.close();
    const orm = await openOrm(inject("databaseUrl"));
    try {
      const [row] = await orm.em.fork().execute<{ n: number }[]>("select count(*)::int as n from recommendation_impressions where request_key = ?", [key]);
      expect(row!.n).toBe(3);
    } finally {
      await orm.close();
    }
  });
});
