/**
 * Delivery end to end: the outbox, the `delivery` BullMQ worker, a real SMTP server and a local push endpoint.
 * A digest arrives with its content and headers; open and click move the status; one-click unsubscribe turns the
 * preference off; temporary failures retry and permanent ones fail at once; Web Push and FCM deliver and
 * deactivate devices that are gone.
 */
import { createECDH, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import webpush from "web-push";
import { createOutbox } from "../../src/modules/notification/outbox.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { startWorkers, type RunningWorkers } from "../../src/worker/workers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser } from "../auth/test-users.ts";
import { startLocalPush, startLocalSmtp, type LocalPush, type LocalSmtp } from "./local-providers.ts";
import { logRow, makeTemplate, moduleFor, uniq, waitForStatus, type NotificationModule } from "./helpers.ts";

let ts: TestServer;
let smtp: LocalSmtp;
let push: LocalPush;
let m: NotificationModule;
let workers: RunningWorkers;
const vapid = webpush.generateVAPIDKeys();

beforeAll(async () => {
  smtp = await startLocalSmtp();
  push = await startLocalPush();
  const prefix = `${inject("redisPrefix")}n6del`;
  ts = await startTestServer({
    env: {
      REDIS_PREFIX: prefix,
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(smtp.port),
      SMTP_TIMEOUT_MS: "3000",
      DELIVERY_LEASE_MS: "10000",
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      FCM_BASE_URL: push.baseUrl,
      FCM_PROJECT_ID: "movierec-test",
      FCM_ACCESS_TOKEN: "test-access-token",
    },
  });
  // The public base URL defaults to localhost:8080; the tests call the links on the test server instead.
  m = moduleFor(ts.deps);
  workers = startWorkers({ redisUrl: ts.deps.config.redisUrl, prefix, log: createLogger({ level: "silent" }), processors: { delivery: m.processors }, concurrency: 4 });
});
afterAll(async () => {
  await workers?.close();
  m?.close();
  await ts?.close();
  await smtp?.close();
  await push?.close();
});

/** An outbox that writes the rows but enqueues no job, so a test can drive delivery itself. */
const joblessOutbox = () =>
  createOutbox({ orm: ts.orm, queue: { addBulk: async () => [] } as never, log: createLogger({ level: "silent" }), alertsPerDay: 3, unsubscribeUrl: m.links.unsubscribe });

/** A header as sent (mailparser turns List-* headers into objects). */
function rawHeader(raw: Buffer, name: string): string {
  const head = raw.toString("utf8").split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, " ");
  return new RegExp(`^${name}: (.*)$`, "im").exec(head)?.[1]?.trim() ?? "";
}

/** A link from a message, re-pointed at the test server (links use PUBLIC_BASE_URL). */
const local = (url: string) => url.replace("http://localhost:8080", ts.baseUrl);

describe("email", () => {
  it("delivers a digest with its content, multipart parts and unsubscribe headers; open and click move the status", async () => {
    const user = await createTestUser(ts.deps);
    const template = await makeTemplate(m, "email_weekly_digest", {
      subject: "Your week, {{user.username}}",
      html: '<html><body><h1>Picks</h1>{{#movies}}<p><a href="https://movies.example/m/{{id}}?a=1&b=2">{{title}}</a></p>{{/movies}}<a href="{{unsubscribe_url}}">unsubscribe</a></body></html>',
      text: "{{#movies}}- {{title}}\n{{/movies}}",
    });
    const key = `digest-test:${uniq()}`;
    const res = (await m.outbox.queue([{ idempotencyKey: key, userId: user.userId, kind: "digest", template, data: { movies: [{ id: 7, title: "Alien & <Aliens>" }, { id: 8, title: "Heat" }] } }])).get(key)!;
    expect(res.duplicate).toBe(false);
    const id = res.logs[0]!.id;
    const sent = await waitForStatus(ts.orm, id, "sent");

    const mail = smtp.received.find((r) => r.notificationId === id)!;
    expect(mail.to).toBe(user.email);
    expect(mail.parsed.subject).toBe(`Your week, ${user.username}`);
    expect(mail.parsed.text).toContain("- Alien & <Aliens>\n- Heat");
    expect(mail.parsed.html).toContain("Alien &amp; &lt;Aliens&gt;");
    expect(mail.parsed.messageId).toBe(sent.external_id);
    const unsubscribe = rawHeader(mail.raw, "List-Unsubscribe");
    expect(unsubscribe).toMatch(/^<http:\/\/localhost:8080\/unsubscribe\/\d+\/weekly_digest\/[\w-]+>$/);
    expect(rawHeader(mail.raw, "List-Unsubscribe-Post")).toBe("List-Unsubscribe=One-Click");

    // Open pixel, then a click through the signed redirect.
    const pixel = /src="([^"]+\/t\/open\/[^"]+)"/.exec(mail.parsed.html as string)![1]!;
    const img = await fetch(local(pixel.replace(/&amp;/g, "&")));
    expect(img.headers.get("content-type")).toBe("image/gif");
    const opened = await waitForStatus(ts.orm, id, "opened");
    expect(opened.opened_at).not.toBeNull();
    const click = /href="([^"]+\/t\/click\/[^"]+)"/.exec(mail.parsed.html as string)![1]!.replace(/&amp;/g, "&");
    const redirect = await fetch(local(click), { redirect: "manual" });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe("https://movies.example/m/7?a=1&b=2");
    const clicked = await waitForStatus(ts.orm, id, "clicked");
    expect(new Date(clicked.opened_at as string).getTime()).toBe(new Date(opened.opened_at as string).getTime());
    // The signature covers the target: the redirect cannot be pointed elsewhere.
    const forged = local(click).replace(encodeURIComponent("https://movies.example/m/7"), encodeURIComponent("https://evil.example/x"));
    expect((await fetch(forged, { redirect: "manual" })).status).toBe(404);

    // The same key again queues nothing.
    const again = (await m.outbox.queue([{ idempotencyKey: key, userId: user.userId, kind: "digest", template, data: {} }])).get(key)!;
    expect(again).toMatchObject({ duplicate: true });
    expect(again.logs.map((l) => l.id)).toEqual([id]);
  });

  it("one-click unsubscribe (RFC 8058 POST) turns the preference off; later digests are not queued, and a queued one is not sent", async () => {
    const user = await createTestUser(ts.deps);
    const template = await makeTemplate(m, "email_weekly_digest", { subject: "Digest", text: "hello" });
    const key1 = `unsub-${uniq()}`;
    const first = (await m.outbox.queue([{ idempotencyKey: key1, userId: user.userId, kind: "digest", template, data: {} }])).get(key1)!.logs[0]!;
    await waitForStatus(ts.orm, first.id, "sent");
    const mail = smtp.received.find((r) => r.notificationId === first.id)!;
    const url = /<([^>]+)>/.exec(rawHeader(mail.raw, "List-Unsubscribe"))![1]!;
    // GET only shows a confirmation (link scanners must not unsubscribe anyone).
    expect((await fetch(local(url))).status).toBe(200);
    expect((await m.preferences.get(user.userId)).weeklyDigest).toBe(true);
    const post = await fetch(local(url), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "List-Unsubscribe=One-Click" });
    expect(post.status).toBe(200);
    expect((await m.preferences.get(user.userId)).weeklyDigest).toBe(false);
    expect((await fetch(local(url.replace(/\/[\w-]+$/, "/forged")), { method: "POST" })).status).toBe(404);

    const key2 = `unsub-${uniq()}`;
    expect((await m.outbox.queue([{ idempotencyKey: key2, userId: user.userId, kind: "digest", template, data: {} }])).get(key2)).toMatchObject({ skipped: "opted_out", logs: [] });

    // Opted out between queueing and sending: checked again at send time (queued without a job, delivered by hand).
    await m.preferences.update(user.userId, { flags: { weekly_digest: true } });
    const key3 = `unsub-${uniq()}`;
    const queued = (await joblessOutbox().queue([{ idempotencyKey: key3, userId: user.userId, kind: "digest", template, data: {} }])).get(key3)!.logs[0]!;
    await m.preferences.update(user.userId, { flags: { weekly_digest: false } });
    expect(await m.delivery.deliver(queued.id, { finalAttempt: false, retryDelayMs: 0 })).toBe("failed");
    expect((await logRow(ts.orm, queued.id)).error_message).toMatch(/opted out \(weekly_digest\)/);
    expect(smtp.received.some((r) => r.notificationId === queued.id)).toBe(false);
  });

  it("retries a temporary SMTP refusal (451) and fails a permanent one (550) at once with the reason", async () => {
    const flaky = await createTestUser(ts.deps, { prefix: "flaky" });
    const gone = await createTestUser(ts.deps, { prefix: "nosuch" });
    smtp.rule = (rcpt, attempt) => {
      if (rcpt === flaky.email && attempt === 1) return { code: 451, message: "4.3.0 try again later" };
      if (rcpt === gone.email) return { code: 550, message: "5.1.1 no such user" };
      return undefined;
    };
    const template = await makeTemplate(m, "email_recommendation", { subject: "Pick", text: "a pick" });
    const k1 = `retry-${uniq()}`;
    const k2 = `retry-${uniq()}`;
    const res = await m.outbox.queue([
      { idempotencyKey: k1, userId: flaky.userId, kind: "manual", template, data: {} },
      { idempotencyKey: k2, userId: gone.userId, kind: "manual", template, data: {} },
    ]);
    const failed = await waitForStatus(ts.orm, res.get(k2)!.logs[0]!.id, "failed");
    expect(failed.error_message).toMatch(/550/);
    expect(failed.attempts).toBe(1);
    const sent = await waitForStatus(ts.orm, res.get(k1)!.logs[0]!.id, "sent", 20_000);
    expect(sent.attempts).toBe(2);
    expect(sent.error_message).toBe("");
  });

  it("after the last retry the log says failed and why", async () => {
    const user = await createTestUser(ts.deps, { prefix: "always" });
    smtp.rule = (rcpt) => (rcpt === user.email ? { code: 421, message: "4.7.0 service not available" } : undefined);
    const template = await makeTemplate(m, "email_recommendation", { subject: "Pick", text: "a pick" });
    // Queued without a job, then delivered directly as the final attempt would be.
    const outbox = joblessOutbox();
    const key = `final-${uniq()}`;
    const id = (await outbox.queue([{ idempotencyKey: key, userId: user.userId, kind: "manual", template, data: {} }])).get(key)!.logs[0]!.id;
    await expect(m.delivery.deliver(id, { finalAttempt: false, retryDelayMs: 0 })).rejects.toThrow(/421/);
    expect(await logRow(ts.orm, id)).toMatchObject({ status: "pending", attempts: 1 });
    expect(await m.delivery.deliver(id, { finalAttempt: true, retryDelayMs: 0 })).toBe("failed");
    const row = await logRow(ts.orm, id);
    expect(row.status).toBe("failed");
    expect(row.error_message).toMatch(/gave up after 2 attempts: smtp: 421/);
    // A finished notification is never claimed again.
    expect(await m.delivery.deliver(id, { finalAttempt: true, retryDelayMs: 0 })).toBe("done-before");
  });
});

/** A browser-like push subscription whose endpoint is the local push server. */
function subscription(path: string) {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  return JSON.stringify({ endpoint: `${push.baseUrl}${path}`, keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") } });
}

describe("push", () => {
  it("sends Web Push (VAPID, encrypted) and FCM v1 messages, records provider ids, and takes delivery receipts", async () => {
    const user = await createTestUser(ts.deps);
    const web = await m.devices.register(user.userId, subscription(`/wp/${uniq()}`), "web", "Firefox");
    const android = await m.devices.register(user.userId, `fcm-token-${uniq()}`, "android", "Pixel");
    const template = await makeTemplate(m, "push_recommendation", { subject: "New pick", text: "{{title}} is for you" });
    const key = `push-${uniq()}`;
    const logs = (await m.outbox.queue([{ idempotencyKey: key, userId: user.userId, kind: "manual", template, data: { title: "Heat" }, link: "https://movies.example/m/8" }])).get(key)!.logs;
    expect(logs).toHaveLength(2);
    const rows = await Promise.all(logs.map((l) => waitForStatus(ts.orm, l.id, "sent")));
    const webReq = push.requests.find((r) => r.path.startsWith("/wp/") && web.deviceToken.includes(r.path))!;
    expect(webReq.headers["content-encoding"]).toBe("aes128gcm");
    expect(String(webReq.headers.authorization)).toMatch(/^vapid t=/);
    expect(webReq.headers.topic).toBeDefined();
    const fcmReq = push.requests.find((r) => r.path === "/v1/projects/movierec-test/messages:send" && r.body.toString().includes(android.deviceToken))!;
    expect(fcmReq.headers.authorization).toBe("Bearer test-access-token");
    const message = JSON.parse(fcmReq.body.toString()).message;
    expect(message.notification).toEqual({ title: "New pick", body: "Heat is for you" });
    expect(rows.map((r) => r.external_id).sort()).toEqual(expect.arrayContaining([expect.stringMatching(/^projects\/test\/messages\/\d+$/), expect.stringMatching(/^https:\/\/push\.example\/m\/\d+$/)]));

    // The client confirms arrival with the signed receipt URL.
    const fcmLog = logs.find((l) => l.recipient === android.deviceToken)!;
    expect((await fetch(local(message.data.receipt), { method: "POST" })).status).toBe(204);
    expect((await logRow(ts.orm, fcmLog.id)).status).toBe("delivered");
  });

  it("a token the provider reports gone (410, FCM UNREGISTERED) fails at once and deactivates the device; 503 is retried", async () => {
    const user = await createTestUser(ts.deps);
    const webPath = `/wp/${uniq()}`;
    const web = await m.devices.register(user.userId, subscription(webPath), "web", "");
    const ios = await m.devices.register(user.userId, `ios-${uniq()}`, "ios", "");
    const flakyAndroid = await m.devices.register(user.userId, `android-${uniq()}`, "android", "");
    let busy = 0;
    push.reply = (req, n) => {
      if (req.path === webPath) return { status: 410, body: "gone" };
      const body = req.body.toString();
      if (body.includes(ios.deviceToken)) return { status: 404, body: JSON.stringify({ error: { status: "NOT_FOUND", details: [{ errorCode: "UNREGISTERED" }] } }) };
      if (body.includes(flakyAndroid.deviceToken) && busy++ === 0) return { status: 503, body: "busy" };
      return req.path.includes("/messages:send") ? { status: 200, body: JSON.stringify({ name: `projects/test/messages/${n}` }) } : { status: 201 };
    };
    const template = await makeTemplate(m, "push_trending", { subject: "Trending", text: "now" });
    const key = `gone-${uniq()}`;
    await m.preferences.update(user.userId, { flags: { push_trending: true } });
    const logs = (await m.outbox.queue([{ idempotencyKey: key, userId: user.userId, kind: "manual", template, data: {} }])).get(key)!.logs;
    expect(logs).toHaveLength(3);
    const byDevice = (token: string, id: string) => logs.find((l) => l.recipient === token || l.recipient.startsWith(`web:${id}:`))!;
    const webRow = await waitForStatus(ts.orm, byDevice(web.deviceToken, web.id).id, "failed");
    expect(webRow.error_message).toMatch(/410/);
    expect((await waitForStatus(ts.orm, byDevice(ios.deviceToken, ios.id).id, "failed")).error_message).toMatch(/404/);
    const retried = await waitForStatus(ts.orm, byDevice(flakyAndroid.deviceToken, flakyAndroid.id).id, "sent", 20_000);
    expect(retried.attempts).toBe(2);
    expect((await m.devices.get(web.id))!.isActive).toBe(false);
    expect((await m.devices.get(ios.id))!.isActive).toBe(false);
    expect((await m.devices.get(flakyAndroid.id))!.isActive).toBe(true);
  });
});
