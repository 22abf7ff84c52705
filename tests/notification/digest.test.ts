/**
 * Weekly digest scheduling: local windows across DST changes (pure), and the scheduler against PostgreSQL: a user
 * in Europe/Paris gets exactly one digest, at their local time, through the night the clocks go back, with their
 * top recommendations in it. Alerts are limited per user and day.
 */
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { dueWindows, isoWeek, localTime } from "../../src/modules/notification/digest-schedule.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser } from "../auth/test-users.ts";
import { makeTemplate, moduleFor, uniq, type NotificationModule } from "./helpers.ts";

/** The `to` instants of the ticks (every `stepMin` minutes over [start, end]) whose window contains day/minute. */
function firing(tz: string, day: number, minute: number, start: string, end: string, stepMin: number): string[] {
  const hits: string[] = [];
  for (let t = Date.parse(start); t < Date.parse(end); t += stepMin * 60_000) {
    const windows = dueWindows(new Date(t), new Date(t + stepMin * 60_000), tz);
    if (windows.some((w) => w.day === day && w.afterMinute < minute && minute <= w.untilMinute)) hits.push(new Date(t + stepMin * 60_000).toISOString());
  }
  return hits;
}

describe("digest windows", () => {
  it("follow the zone's local time", () => {
    expect(localTime(new Date("2025-03-10T08:00:00Z"), "Asia/Tokyo")).toEqual({ isoDay: 1, minute: 17 * 60, date: "2025-03-10" });
    expect(firing("America/Los_Angeles", 1, 9 * 60, "2025-01-06T00:00:00Z", "2025-01-07T00:00:00Z", 1)).toEqual(["2025-01-06T17:00:00.000Z"]);
  });

  it("send a digest set inside the skipped hour once, right after the spring-forward gap", () => {
    // Europe/Paris, Sunday 30 March 2025: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
    expect(firing("Europe/Paris", 7, 2 * 60 + 30, "2025-03-29T22:00:00Z", "2025-03-30T04:00:00Z", 1)).toEqual(["2025-03-30T01:00:00.000Z"]);
    // New York, 9 March 2025: 02:00 EST becomes 03:00 EDT at 07:00 UTC; a 09:00 digest is at 13:00 UTC that day.
    expect(firing("America/New_York", 7, 2 * 60 + 30, "2025-03-09T05:00:00Z", "2025-03-09T09:00:00Z", 5)).toEqual(["2025-03-09T07:00:00.000Z"]);
    expect(firing("America/New_York", 7, 9 * 60, "2025-03-09T00:00:00Z", "2025-03-10T00:00:00Z", 1)).toEqual(["2025-03-09T13:00:00.000Z"]);
  });

  it("see the repeated hour twice when clocks go back (the idempotency key keeps one digest)", () => {
    // Europe/Paris, Sunday 26 October 2025: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:30 happens twice.
    expect(firing("Europe/Paris", 7, 2 * 60 + 30, "2025-10-25T22:00:00Z", "2025-10-26T04:00:00Z", 1)).toEqual(["2025-10-26T00:30:00.000Z", "2025-10-26T01:30:00.000Z"]);
    // A digest outside the repeated hour still fires once.
    expect(firing("Europe/Paris", 7, 9 * 60, "2025-10-26T00:00:00Z", "2025-10-27T00:00:00Z", 1)).toEqual(["2025-10-26T08:00:00.000Z"]);
  });

  it("split at local midnight and name the ISO week", () => {
    const w = dueWindows(new Date("2025-03-09T23:58:00Z"), new Date("2025-03-10T00:02:00Z"), "UTC");
    expect(w).toEqual([
      { day: 7, afterMinute: 23 * 60 + 58, untilMinute: 1439, date: "2025-03-09" },
      { day: 1, afterMinute: -1, untilMinute: 2, date: "2025-03-10" },
    ]);
    expect(isoWeek("2025-01-01")).toBe("2025-W01");
    expect(isoWeek("2024-12-30")).toBe("2025-W01");
    expect(isoWeek("2021-01-03")).toBe("2020-W53");
    expect(isoWeek("2025-10-26")).toBe("2025-W43");
  });
});

let ts: TestServer;
let m: NotificationModule;

beforeAll(async () => {
  ts = await startTestServer({ env: { REDIS_PREFIX: `${inject("redisPrefix")}n6dig`, ALERTS_PER_USER_PER_DAY: "2" } });
  m = moduleFor(ts.deps);
});
afterAll(async () => {
  await ts?.close();
});

describe("the digest scheduler", () => {
  it("queues one digest with the user's top recommendations through the night the clocks go back", async () => {
    const user = await createTestUser(ts.deps);
    await m.preferences.update(user.userId, { digestDay: 7, digestTime: "02:30", timezone: "Europe/Paris" });
    const em = ts.orm.em.fork();
    const tmdb = 900_000_000 + Math.floor(Math.random() * 90_000_000);
    const [movie] = await em.execute<{ id: string }[]>("insert into movies (tmdb_id, title, original_title, original_language) values (?, ?, ?, 'en') returning id", [tmdb, `Digest Movie ${uniq()}`, "x"]);
    await em.execute("insert into user_recommendation_lists (user_id, algorithm, movie_ids, scores) values (?, 'test', array[?::bigint], '{0.9}')", [user.userId, movie!.id]);
    const title = (await em.execute<{ title: string }[]>("select title from movies where id = ?", [movie!.id]))[0]!.title;

    await makeTemplate(m, "email_weekly_digest", { subject: "Week {{week}}", text: "{{#movies}}* {{title}}\n{{/movies}}", active: true });
    const fired: string[] = [];
    for (let t = Date.parse("2025-10-25T23:00:00Z"); t < Date.parse("2025-10-26T03:00:00Z"); t += 10 * 60_000) {
      const r = await m.digests.runWindow(new Date(t), new Date(t + 10 * 60_000));
      const logs = await em.execute<{ id: string }[]>("select id from notification_logs where user_id = ? and request_key like 'digest:%'", [user.userId]);
      if (r.due > 0 && logs.length > fired.length) fired.push(new Date(t + 10 * 60_000).toISOString());
    }
    const logs = await em.execute<{ request_key: string; content: string; subject: string; status: string }[]>(
      "select request_key, content, subject, status from notification_logs where user_id = ?",
      [user.userId],
    );
    expect(logs).toHaveLength(1);
    expect(fired).toEqual(["2025-10-26T00:30:00.000Z"]);
    expect(logs[0]).toMatchObject({ request_key: `digest:${user.userId}:2025-W43`, status: "pending" });
    expect(logs[0]!.content).toContain(title);
  });

  it("limits alerts per user and day, per channel", async () => {
    const user = await createTestUser(ts.deps);
    await makeTemplate(m, "email_trending", { subject: "Trending: {{movie.title}}", text: "{{movie.title}} {{movie.url}}", active: true });
    await m.preferences.update(user.userId, { flags: { trending_alerts: true } });
    const outcomes = [];
    for (let i = 0; i < 3; i++) {
      const res = await m.alerts.send("trending", [user.userId], { id: String(1_000_000 + i), title: `Hot ${i}` });
      outcomes.push([...res.entries()].filter(([key]) => key.endsWith(":email")).map(([, r]) => r.skipped ?? (r.logs.length === 1 ? "queued" : "?")));
    }
    expect(outcomes.flat()).toEqual(["queued", "queued", "rate_limited"]);
    // The same alert again is a duplicate, not a new one.
    const again = await m.alerts.send("trending", [user.userId], { id: "1000000", title: "Hot 0" });
    expect(again.get(`trending_alert:${user.userId}:1000000:email`)).toMatchObject({ duplicate: true });
  });
});
