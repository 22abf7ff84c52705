/**
 * Staff sends to a filtered set (SendNotification with a RecipientFilter: one outbox key per user, a cap, retries
 * queue nothing twice) and GetDeliveryStats per day, checked against counts computed by hand from rows this file
 * writes with known dates.
 */
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { NotificationService } from "../../gen/movierec/notification/v1/notification_service_pb.js";
import { NotificationType, TemplateType } from "../../gen/movierec/notification/v1/notification_pb.js";
import { createBroadcast } from "../../src/modules/notification/broadcast.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";
import { makeTemplate, moduleFor, uniq, type NotificationModule } from "./helpers.ts";

let ts: TestServer;
let client: Client<typeof NotificationService>;
let staff: TestUser;
let m: NotificationModule;

beforeAll(async () => {
  // A cap of 3 recipients, and a Redis prefix of our own: no worker of another file takes these jobs.
  ts = await startTestServer({ env: { REDIS_PREFIX: `${inject("redisPrefix")}n6staff`, SEND_MAX_RECIPIENTS: "3" } });
  client = createClient(NotificationService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
  staff = await createTestUser(ts.deps, { staff: true });
  m = moduleFor(ts.deps);
});
afterAll(async () => {
  await ts?.close();
});

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return "ok";
  } catch (e) {
    return ConnectError.from(e).code;
  }
};

/** A genre of this test only: a filter on it matches only the users made here, whatever else the database holds. */
async function genre(): Promise<string> {
  const [g] = await ts.orm.em.fork().execute<{ id: string }[]>("insert into genres (tmdb_id, name, slug) values (?, ?, ?) returning id::text as id", [
    700_000_000 + Math.floor(Math.random() * 99_000_000),
    `Staff ${uniq()}`,
    `staff-${uniq()}`,
  ]);
  return g!.id;
}

async function fan(genreId: string, opts: { premium?: boolean; trending?: boolean; joined?: string } = {}): Promise<TestUser> {
  const u = await createTestUser(ts.deps);
  const em = ts.orm.em.fork();
  await em.execute("update users set is_premium = ?, date_joined = coalesce(?::timestamptz, date_joined) where id = ?", [opts.premium ?? false, opts.joined ?? null, u.userId]);
  await em.execute("insert into user_profiles (user_id) values (?) on conflict (user_id) do nothing", [u.userId]);
  await em.execute("insert into user_favorite_genres (userprofile_id, genre_id) select id, ? from user_profiles where user_id = ?", [genreId, u.userId]);
  if (opts.trending) await m.preferences.update(u.userId, { flags: { trending_alerts: true } });
  return u;
}

describe("SendNotification to a filter", () => {
  it("queues one notification per matching user through the outbox, skips opted-out users, and a retry queues nothing", async () => {
    const g = await genre();
    const [a, b, c] = await Promise.all([fan(g, { premium: true, trending: true }), fan(g, { premium: true }), fan(g, { premium: true, trending: true, joined: "2020-01-01T00:00:00Z" })]);
    await fan(g, { premium: false, trending: true }); // not premium: never matched below
    const t = await makeTemplate(m, "email_trending", { subject: "Hot for {{user.username}}", text: "{{note}}", active: true });
    const key = uniq();
    const filter = { favoriteGenreIds: [g], premium: true, joinedAfter: timestampFromDate(new Date("2024-01-01T00:00:00Z")) };
    const req = { filter, template: { case: "templateId" as const, value: t.id }, data: { note: "broadcast" }, idempotencyKey: key };

    const first = await client.sendNotification(req, { headers: staff.headers });
    // a and b match (c joined before the bound); b has trending alerts off (the default), so only a gets it.
    expect(first).toMatchObject({ matchedUsers: 2, queuedUsers: 1, skippedUsers: 1, duplicateUsers: 0, duplicate: false, notifications: [] });
    const rows = await ts.orm.em.fork().execute<{ user_id: string; content: string; request_key: string }[]>(
      "select user_id::text as user_id, content, request_key from notification_logs where user_id = any(?::bigint[])",
      [`{${[a, b, c].map((u) => u.userId).join(",")}}`],
    );
    expect(rows).toEqual([{ user_id: a.userId, content: "broadcast", request_key: `manual:u${staff.userId}:${key}:f:${a.userId}` }]);

    const again = await client.sendNotification(req, { headers: staff.headers });
    expect(again).toMatchObject({ matchedUsers: 2, queuedUsers: 0, duplicateUsers: 2, duplicate: true });

    // A preference condition and ignore_preferences: c (no join bound now) and a have trending on.
    const trendy = await client.sendNotification(
      { ...req, filter: { favoriteGenreIds: [g], premium: true, preferencesOn: ["trending_alerts"] }, idempotencyKey: uniq() },
      { headers: staff.headers },
    );
    expect(trendy).toMatchObject({ matchedUsers: 2, queuedUsers: 2 });
    const forced = await client.sendNotification({ ...req, filter: { favoriteGenreIds: [g], premium: true }, idempotencyKey: uniq(), ignorePreferences: true }, { headers: staff.headers });
    expect(forced).toMatchObject({ matchedUsers: 3, queuedUsers: 3, skippedUsers: 0 });
  });

  it("refuses more matches than the cap before queueing anything, and needs exactly one of user_id and filter", async () => {
    const g = await genre();
    const fans = await Promise.all(Array.from({ length: 4 }, () => fan(g, { trending: true })));
    const t = await makeTemplate(m, "email_trending", { subject: "x", text: "capped", active: true });
    const base = { template: { case: "templateId" as const, value: t.id }, idempotencyKey: uniq() };
    expect(await codeOf(client.sendNotification({ ...base, filter: { favoriteGenreIds: [g] } }, { headers: staff.headers }))).toBe(Code.FailedPrecondition);
    const [{ n }] = await ts.orm.em.fork().execute<{ n: number }[]>("select count(*)::int as n from notification_logs where user_id = any(?::bigint[])", [`{${fans.map((u) => u.userId).join(",")}}`]);
    expect(n).toBe(0);

    expect(await codeOf(client.sendNotification({ ...base, userId: fans[0]!.userId, filter: { favoriteGenreIds: [g] } }, { headers: staff.headers }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.sendNotification(base, { headers: staff.headers }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.sendNotification({ ...base, filter: { preferencesOn: ["not_a_flag"] } }, { headers: staff.headers }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.sendNotification({ ...base, filter: { favoriteGenreIds: [g] } }, { headers: fans[0]!.headers }))).toBe(Code.PermissionDenied);
  });

  it("queues in batches, one outbox transaction each", async () => {
    const g = await genre();
    const fans = await Promise.all(Array.from({ length: 5 }, () => fan(g, { trending: true })));
    const t = await makeTemplate(m, "email_trending", { subject: "x", text: "batched", active: true });
    const batches: number[] = [];
    const outbox = { ...m.outbox, queue: (reqs: Parameters<typeof m.outbox.queue>[0]) => (batches.push(reqs.length), m.outbox.queue(reqs)) };
    const b = createBroadcast({ orm: ts.orm, outbox, maxRecipients: 10, batchSize: 2 });
    const r = await b.send({ key: `batch:${uniq()}`, filter: { activeWithinDays: 0, favoriteGenreIds: [g], preferencesOn: [] }, template: t, data: {}, ignorePreferences: false });
    expect(r).toEqual({ matched: 5, queued: 5, skipped: 0, duplicates: 0 });
    expect(batches).toEqual([2, 2, 1]);
    expect(fans).toHaveLength(5);
  });
});

describe("GetDeliveryStats per day", () => {
  it("counts by day, status, channel and template type as computed by hand", async () => {
    // Rows far in the past (the default partition) on days nobody else writes to: tests share the database.
    const year = 1990 + Math.floor(Math.random() * 20);
    const d1 = `${year}-03-10`;
    const d2 = `${year}-03-11`;
    const user = await createTestUser(ts.deps);
    const email = await makeTemplate(m, "email_recommendation", { subject: "s", text: "t" });
    const push = await makeTemplate(m, "push_trending", { subject: "s", text: "t" });
    const rows: [string, string | null, "email" | "push", string][] = [
      [`${d1}T00:00:00Z`, email.id, "email", "sent"],
      [`${d1}T12:00:00Z`, email.id, "email", "sent"],
      [`${d1}T23:59:59Z`, email.id, "email", "opened"],
      [`${d1}T08:00:00Z`, push.id, "push", "failed"],
      [`${d1}T09:00:00Z`, null, "email", "pending"],
      [`${d2}T00:00:00Z`, email.id, "email", "clicked"],
      [`${d2}T05:00:00Z`, push.id, "push", "delivered"],
      [`${d2}T06:00:00Z`, push.id, "push", "delivered"],
    ];
    const em = ts.orm.em.fork();
    for (const [at, tpl, type, status] of rows) {
      await em.execute(
        `insert into notification_logs (user_id, template_id, notification_type, subject, content, recipient, status, created_at)
         values (?, ?, ?, 's', 'c', 'r', ?, ?)`,
        [user.userId, tpl, type, status, at],
      );
    }
    const res = await client.getDeliveryStats({ startDate: d1, endDate: d2 }, { headers: staff.headers });
    const zero = { pending: 0, sent: 0, delivered: 0, failed: 0, opened: 0, clicked: 0 };
    const strip = (s: (typeof res.daily)[number]) => ({ date: s.date, type: s.type, templateType: s.templateType, pending: s.pending, sent: s.sent, delivered: s.delivered, failed: s.failed, opened: s.opened, clicked: s.clicked, total: s.total });
    expect(res.daily.map(strip)).toEqual([
      { ...zero, date: d1, type: NotificationType.EMAIL, templateType: TemplateType.UNSPECIFIED, pending: 1, total: 1 },
      { ...zero, date: d1, type: NotificationType.EMAIL, templateType: TemplateType.EMAIL_RECOMMENDATION, sent: 2, opened: 1, total: 3 },
      { ...zero, date: d1, type: NotificationType.PUSH, templateType: TemplateType.PUSH_TRENDING, failed: 1, total: 1 },
      { ...zero, date: d2, type: NotificationType.EMAIL, templateType: TemplateType.EMAIL_RECOMMENDATION, clicked: 1, total: 1 },
      { ...zero, date: d2, type: NotificationType.PUSH, templateType: TemplateType.PUSH_TRENDING, delivered: 2, total: 2 },
    ]);
    expect(res.stats.map(strip)).toEqual([
      { ...zero, date: "", type: NotificationType.EMAIL, templateType: TemplateType.UNSPECIFIED, pending: 1, total: 1 },
      { ...zero, date: "", type: NotificationType.EMAIL, templateType: TemplateType.EMAIL_RECOMMENDATION, sent: 2, opened: 1, clicked: 1, total: 4 },
      { ...zero, date: "", type: NotificationType.PUSH, templateType: TemplateType.PUSH_TRENDING, failed: 1, delivered: 2, total: 3 },
    ]);
    // One day only, filtered by channel.
    const one = await client.getDeliveryStats({ startDate: d2, endDate: d2, type: NotificationType.PUSH }, { headers: staff.headers });
    expect(one.daily.map((s) => [s.date, s.delivered, s.total])).toEqual([[d2, 2, 2]]);
    // The range is bounded.
    expect(await codeOf(client.getDeliveryStats({ startDate: `${year}-01-01`, endDate: `${year + 1}-01-02` }, { headers: staff.headers }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.getDeliveryStats({ startDate: d2, endDate: d1 }, { headers: staff.headers }))).toBe(Code.InvalidArgument);
  });
});
