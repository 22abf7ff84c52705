/**
 * The alert triggers end to end, into a real SMTP server and a local FCM endpoint through the `delivery` worker:
 * - a recommendation alert after the rescore-user job (the hook runs after its transaction committed), behind the
 *   preference switch, at most ALERTS_PER_USER_PER_DAY (2 here);
 * - the daily job (taken from the real queue): a new release in a favourite genre, and the day's trending movie,
 *   each capped the same way.
 */
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import type { Job } from "bullmq";
import { createLogger } from "../../src/platform/logger.ts";
import { createQueues } from "../../src/platform/queues.ts";
import { createRecommendationModule } from "../../src/modules/recommendation/index.ts";
import { DAILY_ALERTS_SCHEDULER_ID, scheduleNotificationJobs } from "../../src/modules/notification/notification.jobs.ts";
import { startWorkers, type RunningWorkers } from "../../src/worker/workers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";
import { startLocalPush, startLocalSmtp, type LocalPush, type LocalSmtp } from "./local-providers.ts";
import { makeTemplate, moduleFor, uniq, type NotificationModule } from "./helpers.ts";

const log = createLogger({ level: "silent" });
let ts: TestServer;
let smtp: LocalSmtp;
let push: LocalPush;
let m: NotificationModule;
let workers: RunningWorkers;

beforeAll(async () => {
  smtp = await startLocalSmtp();
  push = await startLocalPush();
  const prefix = `${inject("redisPrefix")}n6trig`;
  ts = await startTestServer({
    env: {
      REDIS_PREFIX: prefix,
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(smtp.port),
      SMTP_TIMEOUT_MS: "3000",
      DELIVERY_LEASE_MS: "10000",
      FCM_BASE_URL: push.baseUrl,
      FCM_PROJECT_ID: "movierec-test",
      FCM_ACCESS_TOKEN: "test-access-token",
      ALERTS_PER_USER_PER_DAY: "2",
    },
  });
  m = moduleFor(ts.deps);
  workers = startWorkers({ redisUrl: ts.deps.config.redisUrl, prefix, log, processors: { delivery: m.processors }, concurrency: 4 });
});
afterAll(async () => {
  await workers?.close();
  m?.close();
  await ts?.close();
  await smtp?.close();
  await push?.close();
});

const sql = <T = Record<string, unknown>>(q: string, params: unknown[] = []) => ts.orm.em.fork().execute<T[]>(q, params);
const one = async (q: string, params: unknown[] = []) => String((await sql<{ id: string }>(q, params))[0]!.id);
const genre = () => one("insert into genres (tmdb_id, name, slug) values (?, ?, ?) returning id", [600_000_000 + Math.floor(Math.random() * 99_000_000), `Trig ${uniq()}`, `trig-${uniq()}`]);
async function movie(genreId: string, opts: { released?: string; popularity?: number } = {}): Promise<{ id: string; title: string }> {
  const title = `Trig Movie ${uniq()}`;
  const id = await one("insert into movies (tmdb_id, title, original_title, original_language, release_date, popularity_score) values (?, ?, ?, 'en', ?, ?) returning id", [
    500_000_000 + Math.floor(Math.random() * 99_000_000),
    title,
    title,
    opts.released ?? null,
    opts.popularity ?? 0,
  ]);
  await sql("insert into movie_genres (movie_id, genre_id) values (?, ?)", [id, genreId]);
  return { id, title };
}
const plainUser = () => one("insert into users (username, email, password) values (?, ?, 'x') returning id", [`trig_${uniq()}`, `trig_${uniq()}@example.test`]);
const like = (userId: string, movieId: string, type = "like") => sql("insert into user_movie_interactions (user_id, movie_id, interaction_type) values (?, ?, ?)", [userId, movieId, type]);
async function favourite(userId: string, genreId: string): Promise<void> {
  await sql("insert into user_profiles (user_id) values (?) on conflict (user_id) do nothing", [userId]);
  await sql("insert into user_favorite_genres (userprofile_id, genre_id) select id, ? from user_profiles where user_id = ?", [genreId, userId]);
}
const mailsTo = (u: TestUser) => smtp.received.filter((r) => r.to === u.email);
async function settle(u: TestUser, count: number): Promise<void> {
  const until = Date.now() + 15_000;
  while (mailsTo(u).length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300)); // a moment more: nothing beyond `count` may arrive
}
/** Runs the daily job as the worker does: a job on the real `delivery` queue, awaited. */
async function runDailyJob(): Promise<void> {
  const job = await ts.deps.queues.delivery.add("daily-alerts", {}, { jobId: `daily-${uniq()}` });
  const until = Date.now() + 20_000;
  for (;;) {
    const state = await job.getState();
    if (state === "completed") return;
    if (state === "failed" || Date.now() > until) throw new Error(`daily-alerts job is ${state}: ${(await ts.deps.queues.delivery.getJob(job.id!))?.failedReason}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("recommendation alerts", () => {
  it("arrive after the rescore-user job for a high-scoring new recommendation, never when switched off, at most the daily cap", async () => {
    const g = await genre();
    const films = await Promise.all(Array.from({ length: 7 }, () => movie(g)));
    // Twelve fans like every film: after liking two, the other five score alike (1.0, above the 0.8 bar).
    for (let k = 0; k < 12; k++) {
      const fan = await plainUser();
      for (const f of films) await like(fan, f.id);
    }
    const [alice, bob] = await Promise.all([createTestUser(ts.deps), createTestUser(ts.deps)]);
    for (const u of [alice, bob]) for (const f of films.slice(0, 2)) await like(u.userId, f.id);
    await m.preferences.update(bob.userId, { flags: { recommendation_alerts: false, push_recommendations: false } });
    await makeTemplate(m, "email_recommendation", { subject: "For you: {{movie.title}}", text: "{{movie.title}} {{movie.url}}", active: true });

    const rec = createRecommendationModule({ ...ts.deps, afterRescore: m.recommendationsRescored }, { topN: 20, maxItems: 2000 });
    // A job object of our own (the training job itself is tested in tests/recommendation): progress goes nowhere.
    await rec.processors.train({ id: `t-${uniq()}`, data: {}, updateProgress: async () => undefined } as unknown as Job, log);
    const rescore = (userId: string) => rec.processors["rescore-user"]!({ data: { userId } } as Job, log);
    const titles = new Set(films.slice(2).map((f) => f.title));

    await rescore(alice.userId);
    await rescore(bob.userId);
    await settle(alice, 1);
    expect(mailsTo(alice)).toHaveLength(1);
    expect([...titles].some((t) => mailsTo(alice)[0]!.parsed.text?.includes(t))).toBe(true);
    expect(mailsTo(bob)).toHaveLength(0);

    // Each rescoring alerts about the best movie not alerted yet; the third in a day is over the cap of 2.
    const [{ n: worthy }] = await sql<{ n: number }>(`select count(distinct i.movie_id)::int as n from user_recommendation_lists l cross join lateral unnest(l.movie_ids, l.scores) as i(movie_id, score)
        where l.user_id = ? and i.score >= 0.8 and l.id in (select max(id) from user_recommendation_lists where user_id = l.user_id group by algorithm)`, [alice.userId]);
    expect(worthy).toBeGreaterThanOrEqual(3);
    await rescore(alice.userId);
    await rescore(alice.userId);
    await settle(alice, 2);
    expect(mailsTo(alice)).toHaveLength(2);
    const alerted = mailsTo(alice).map((r) => r.parsed.text ?? "");
    expect(new Set(alerted).size).toBe(2);
    const keys = await sql<{ request_key: string }>("select request_key from notification_logs where user_id = ? and notification_type = 'email'", [alice.userId]);
    expect(keys.map((k) => k.request_key.replace(/:\d+:email$/, ""))).toEqual([`recommendation_alert:${alice.userId}`, `recommendation_alert:${alice.userId}`]);
  });
});

describe("the daily alerts job", () => {
  it("sends new releases in a favourite genre to users who want them, at most the daily cap", async () => {
    const g = await genre();
    const today = new Date().toISOString().slice(0, 10);
    const releases = await Promise.all([3, 2, 1].map((k) => movie(g, { released: today, popularity: 1e9 + k })));
    await movie(g, { released: "2001-01-01", popularity: 2e9 }); // old: never a new release
    const [fan, quiet] = await Promise.all([createTestUser(ts.deps), createTestUser(ts.deps)]);
    for (const u of [fan, quiet]) await favourite(u.userId, g);
    await m.preferences.update(fan.userId, { flags: { new_release_alerts: true } });
    await makeTemplate(m, "email_new_release", { subject: "New: {{movie.title}}", text: "Out now: {{movie.title}}", active: true });

    await runDailyJob();
    await settle(fan, 2);
    // Three releases, most popular first; the cap of 2 a day stops the third.
    const got = mailsTo(fan).map((r) => r.parsed.text?.split("\n")[0]).sort();
    expect(got).toEqual(releases.slice(0, 2).map((r) => `Out now: ${r.title}`).sort());
    expect(mailsTo(quiet)).toHaveLength(0);
    // Running again queues nothing new (one alert per user and movie).
    await runDailyJob();
    await settle(fan, 2);
    expect(mailsTo(fan)).toHaveLength(2);
  });

  it("sends the day's trending movie by push and email to users who want it, not to those who already saw it, at most the cap", async () => {
    const g = await genre();
    const hot = await movie(g);
    // Far more interactions today than any other test makes on one movie.
    for (let k = 0; k < 40; k++) await like(await plainUser(), hot.id, "view");
    const [fan, seen, full] = await Promise.all([createTestUser(ts.deps), createTestUser(ts.deps), createTestUser(ts.deps)]);
    for (const u of [fan, seen, full]) await m.preferences.update(u.userId, { flags: { trending_alerts: true, push_trending: true } });
    await like(seen.userId, hot.id, "view");
    const token = `fcm-${uniq()}-${"t".repeat(30)}`;
    await m.devices.register(fan.userId, token, "android", "Pixel");
    await makeTemplate(m, "email_trending", { subject: "Trending: {{movie.title}}", text: "{{movie.title}} {{movie.url}}", active: true });
    await makeTemplate(m, "push_trending", { subject: "Trending", text: "{{movie.title}}", active: true });
    // `full` already had two trending emails today: the daily run must not send a third.
    for (const k of [1, 2]) await m.alerts.send("trending", [full.userId], { id: String(900_000_000 + k), title: `Earlier ${k}` });
    await settle(full, 2);

    await runDailyJob();
    await settle(fan, 1);
    expect(mailsTo(fan).map((r) => r.parsed.text ?? "")).toEqual([expect.stringContaining(hot.title)]);
    const until = Date.now() + 10_000;
    while (!push.requests.some((r) => r.body.toString().includes(token)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const fcm = push.requests.find((r) => r.body.toString().includes(token));
    expect(JSON.parse(fcm!.body.toString()).message).toMatchObject({ token, notification: { body: hot.title } });
    expect(mailsTo(seen)).toHaveLength(0);
    expect(mailsTo(full).map((r) => r.parsed.text ?? "")).not.toContainEqual(expect.stringContaining(hot.title));
    expect(mailsTo(full)).toHaveLength(2);
  });
});

describe("the daily alerts schedule", () => {
  it("is one cron scheduler in UTC (ALERTS_CRON), removed when turned off", async () => {
    // A queue of its own: registering the repeating jobs on the worker's prefix would start digest ticks there.
    const queues = createQueues(ts.deps.config.redisUrl, `${inject("redisPrefix")}n6sched${uniq()}`);
    try {
      const opts = { sweepIntervalMs: 60_000, digestTickMs: 60_000, alertsCron: "0 10 * * *" };
      await scheduleNotificationJobs(queues.delivery, opts);
      await scheduleNotificationJobs(queues.delivery, opts); // a second worker starting
      const daily = (await queues.delivery.getJobSchedulers()).filter((j) => j.key === DAILY_ALERTS_SCHEDULER_ID);
      expect(daily.map((j) => [j.pattern, j.tz, j.name])).toEqual([["0 10 * * *", "UTC", "daily-alerts"]]);
      await scheduleNotificationJobs(queues.delivery, { ...opts, alertsCron: "" });
      expect((await queues.delivery.getJobSchedulers()).map((j) => j.key)).not.toContain(DAILY_ALERTS_SCHEDULER_ID);
    } finally {
      await queues.delivery.obliterate({ force: true }).catch(() => undefined);
      await queues.close();
    }
  });
});
