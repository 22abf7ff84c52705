/**
 * NotificationService over a real server with real tokens: preferences (field mask, validation), devices (moving a
 * token between users), templates (staff only, syntax checked on save, preview), SendNotification idempotency.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { NotificationService } from "../../gen/movierec/notification/v1/notification_service_pb.js";
import { DeviceType, NotificationStatus, NotificationType, TemplateType } from "../../gen/movierec/notification/v1/notification_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";

let ts: TestServer;
let client: Client<typeof NotificationService>;
let alice: TestUser;
let bob: TestUser;
let staff: TestUser;
const uniq = () => Math.random().toString(36).slice(2, 10);

beforeAll(async () => {
  // A Redis prefix of our own: no worker of another test file takes these jobs.
  ts = await startTestServer({ env: { REDIS_PREFIX: `${inject("redisPrefix")}n6rpc` } });
  client = createClient(NotificationService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
  [alice, bob, staff] = await Promise.all([createTestUser(ts.deps), createTestUser(ts.deps), createTestUser(ts.deps, { staff: true })]);
});
afterAll(async () => {
  await ts?.close();
});

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return Code.Unknown * 0;
  } catch (e) {
    return ConnectError.from(e).code;
  }
};

describe("preferences", () => {
  it("start with the design's defaults and change only the masked fields", async () => {
    const h = { headers: alice.headers };
    const { preferences } = await client.getPreferences({}, h);
    expect(preferences).toMatchObject({ weeklyDigest: true, recommendationAlerts: true, trendingAlerts: false, pushRecommendations: true, digestDay: 1, digestTime: "09:00", timezone: "UTC" });
    const res = await client.updatePreferences(
      {
        preferences: { weeklyDigest: false, trendingAlerts: true, digestDay: 5, digestTime: "18:30", timezone: "Europe/Paris", pushTrending: true },
        updateMask: create(FieldMaskSchema, { paths: ["weekly_digest", "digest_day", "digest_time", "timezone"] }),
      },
      h,
    );
    expect(res.preferences).toMatchObject({ weeklyDigest: false, trendingAlerts: false, pushTrending: false, digestDay: 5, digestTime: "18:30", timezone: "Europe/Paris" });
    expect((await client.getPreferences({}, { headers: bob.headers })).preferences?.digestDay).toBe(1);
  });

  it("rejects an unknown time zone, a bad day and a bad time", async () => {
    const h = { headers: alice.headers };
    const mask = (p: string) => create(FieldMaskSchema, { paths: [p] });
    expect(await codeOf(client.updatePreferences({ preferences: { timezone: "Mars/Olympus_Mons" }, updateMask: mask("timezone") }, h))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.updatePreferences({ preferences: { digestDay: 8 }, updateMask: mask("digest_day") }, h))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.updatePreferences({ preferences: { digestTime: "25:00" }, updateMask: mask("digest_time") }, h))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.getPreferences({}))).toBe(Code.Unauthenticated);
  });
});

describe("devices", () => {
  it("registers, lists with a masked token, moves a token to its new owner, and unregisters", async () => {
    const token = `fcm-${uniq()}-${"x".repeat(40)}`;
    const a = await client.registerDevice({ deviceToken: token, deviceType: DeviceType.ANDROID, deviceName: "Pixel" }, { headers: alice.headers });
    expect(a.device).toMatchObject({ deviceType: DeviceType.ANDROID, deviceName: "Pixel", isActive: true, deviceTokenSuffix: token.slice(-8) });
    const listed = await client.listDevices({}, { headers: alice.headers });
    expect(listed.devices.map((d) => d.id)).toContain(a.device!.id);

    const b = await client.registerDevice({ deviceToken: token, deviceType: DeviceType.ANDROID, deviceName: "Bob's now" }, { headers: bob.headers });
    expect(b.device!.id).toBe(a.device!.id);
    expect((await client.listDevices({}, { headers: alice.headers })).devices.map((d) => d.id)).not.toContain(a.device!.id);
    expect((await client.listDevices({}, { headers: bob.headers })).devices.map((d) => d.id)).toContain(a.device!.id);

    // Alice can no longer remove it; Bob can, and a second removal is harmless.
    expect((await client.unregisterDevice({ target: { case: "deviceId", value: a.device!.id } }, { headers: alice.headers })).deleted).toBe(false);
    expect((await client.unregisterDevice({ target: { case: "deviceToken", value: token } }, { headers: bob.headers })).deleted).toBe(true);
    expect((await client.unregisterDevice({ target: { case: "deviceToken", value: token } }, { headers: bob.headers })).deleted).toBe(false);
  });

  it("pages devices with an opaque token", async () => {
    const user = await createTestUser(ts.deps);
    for (let i = 0; i < 3; i++) await client.registerDevice({ deviceToken: `ios-${uniq()}-${i}`, deviceType: DeviceType.IOS }, { headers: user.headers });
    const first = await client.listDevices({ pageSize: 2 }, { headers: user.headers });
    expect(first.devices).toHaveLength(2);
    const second = await client.listDevices({ pageSize: 2, pageToken: first.nextPageToken }, { headers: user.headers });
    expect(second.devices).toHaveLength(1);
    expect(second.nextPageToken).toBe("");
    expect(await codeOf(client.listDevices({ pageToken: "garbage!" }, { headers: user.headers }))).toBe(Code.InvalidArgument);
  });

  it("refuses a web token that is not a push subscription", async () => {
    expect(await codeOf(client.registerDevice({ deviceToken: "not-json", deviceType: DeviceType.WEB }, { headers: alice.headers }))).toBe(Code.InvalidArgument);
  });
});

describe("templates", () => {
  it("are staff-only, checked for syntax on save, listed, previewed, updated and deleted", async () => {
    const name = `alert-${uniq()}`;
    const template = {
      name,
      templateType: TemplateType.EMAIL_RECOMMENDATION,
      subject: "{{user.first_name}}, {{count}} picks",
      htmlContent: "<p>{{movie.title}}</p>",
      textContent: "Watch {{movie.title}}",
      isActive: true,
    };
    expect(await codeOf(client.createTemplate({ template }, { headers: alice.headers }))).toBe(Code.PermissionDenied);
    expect(await codeOf(client.createTemplate({ template: { ...template, name: `${name}-bad`, htmlContent: "<p>{{#movie}}</p>" } }, { headers: staff.headers }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.createTemplate({ template: { ...template, name: `${name}-push`, templateType: TemplateType.PUSH_TRENDING } }, { headers: staff.headers }))).toBe(Code.InvalidArgument);

    const requestId = uniq();
    const created = (await client.createTemplate({ template, requestId }, { headers: staff.headers })).template!;
    expect((await client.createTemplate({ template, requestId }, { headers: staff.headers })).template!.id).toBe(created.id);
    expect(await codeOf(client.createTemplate({ template }, { headers: staff.headers }))).toBe(Code.AlreadyExists);

    const preview = await client.previewTemplate(
      { source: { case: "templateId", value: created.id }, sampleData: { movie: { title: "<Alien>" }, user: { first_name: "Ana" } } },
      { headers: staff.headers },
    );
    expect(preview.html).toBe("<p>&lt;Alien&gt;</p>");
    expect(preview.text).toBe("Watch <Alien>");
    expect(preview.subject).toBe("Ana,  picks");
    expect(preview.missingVariables).toEqual(["count"]);

    const updated = await client.updateTemplate(
      { template: { id: created.id, textContent: "Now: {{movie.title}}", subject: "ignored" }, updateMask: create(FieldMaskSchema, { paths: ["text_content"] }) },
      { headers: staff.headers },
    );
    expect(updated.template).toMatchObject({ textContent: "Now: {{movie.title}}", subject: template.subject });
    expect(await codeOf(client.updateTemplate({ template: { id: created.id, textContent: "{{/x}}" }, updateMask: create(FieldMaskSchema, { paths: ["text_content"] }) }, { headers: staff.headers }))).toBe(Code.InvalidArgument);

    const listed = await client.listTemplates({ templateType: TemplateType.EMAIL_RECOMMENDATION, pageSize: 1000 }, { headers: staff.headers });
    expect(listed.templates.map((t) => t.name)).toContain(name);
    await client.deleteTemplate({ templateId: created.id }, { headers: staff.headers });
    expect(await codeOf(client.deleteTemplate({ templateId: created.id }, { headers: staff.headers }))).toBe(Code.NotFound);
  });
});

describe("SendNotification", () => {
  it("queues a pending email once per idempotency key, visible in the user's history, masked", async () => {
    const user = await createTestUser(ts.deps);
    const t = (await client.createTemplate(
      { template: { name: `manual-${uniq()}`, templateType: TemplateType.EMAIL_RECOMMENDATION, subject: "Hi {{user.username}}", htmlContent: "<b>{{note}}</b>", textContent: "{{note}}", isActive: true } },
      { headers: staff.headers },
    )).template!;
    const key = uniq();
    const first = await client.sendNotification({ userId: user.userId, template: { case: "templateId", value: t.id }, data: { note: "hello" }, idempotencyKey: key }, { headers: staff.headers });
    expect(first.duplicate).toBe(false);
    expect(first.notifications).toHaveLength(1);
    expect(first.notifications[0]).toMatchObject({ type: NotificationType.EMAIL, status: NotificationStatus.PENDING, subject: `Hi ${user.username}`, content: "hello", recipient: user.email });
    const again = await client.sendNotification({ userId: user.userId, template: { case: "templateId", value: t.id }, data: { note: "other" }, idempotencyKey: key }, { headers: staff.headers });
    expect(again.duplicate).toBe(true);
    expect(again.notifications.map((n) => n.id)).toEqual(first.notifications.map((n) => n.id));

    const history = await client.listNotifications({}, { headers: user.headers });
    expect(history.notifications.map((n) => n.id)).toEqual([first.notifications[0]!.id]);
    expect(history.notifications[0]!.recipient).toMatch(/^t\*\*\*@example\.test$/);
    expect(await codeOf(client.listNotifications({ userId: staff.userId }, { headers: user.headers }))).toBe(Code.PermissionDenied);
    const stats = await client.getDeliveryStats({ startDate: new Date().toISOString().slice(0, 10), endDate: new Date().toISOString().slice(0, 10) }, { headers: staff.headers });
    const row = stats.stats.find((s) => s.type === NotificationType.EMAIL && s.templateType === TemplateType.EMAIL_RECOMMENDATION);
    expect(row?.pending).toBeGreaterThanOrEqual(1);
  });
});
