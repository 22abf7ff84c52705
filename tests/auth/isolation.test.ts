/**
 * Per-user isolation of data, not only of the gate (review of 2026-11-30, item 3): two signed-in users, A with one
 * row of every user-owned kind, B calling every RPC that takes the id of such a row (or a user id) with A's ids.
 * Each call must be refused (NOT_FOUND / PERMISSION_DENIED) or be a no-op for A, and A's rows must be unchanged;
 * every list B reads must hold none of A's rows. auth-rules.test.ts covers the gate (who may call a method at all).
 */
import { randomBytes, randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { NotificationService } from "../../gen/movierec/notification/v1/notification_service_pb.js";
import { FeedbackType, InteractionType } from "../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { DeviceType } from "../../gen/movierec/notification/v1/notification_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "./test-users.ts";

let ts: TestServer;
let users: Client<typeof UserService>;
let recs: Client<typeof RecommendationService>;
let notes: Client<typeof NotificationService>;
let a: TestUser;
let b: TestUser;
/** A's rows. */
const own = { movieId: "", otherMovieId: "", recId: "", interactionId: "", deviceId: "", deviceToken: "", notificationId: "", feedbackRequestId: "", feedbackId: "" };

const sql = <T = Record<string, unknown>>(q: string, params: unknown[] = []) => ts.orm.em.fork().execute<T[]>(q, params);
const failure = (p: Promise<unknown>): Promise<ConnectError> =>
  p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => ConnectError.from(e),
  );

async function movie(): Promise<string> {
  const tmdb = randomInt(10_000_000, 2_000_000_000);
  const [row] = await sql<{ id: string }>(
    "insert into movies (tmdb_id, title, original_title, original_language) values (?, ?, ?, 'en') returning id::text as id",
    [tmdb, `Isolation ${tmdb}`, `Isolation ${tmdb}`],
  );
  return row!.id;
}

beforeAll(async () => {
  ts = await startTestServer();
  const transport = createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" });
  users = createClient(UserService, transport);
  recs = createClient(RecommendationService, transport);
  notes = createClient(NotificationService, transport);
  a = await createTestUser(ts.deps, { prefix: "iso_a" });
  b = await createTestUser(ts.deps, { prefix: "iso_b" });
  own.movieId = await movie();
  own.otherMovieId = await movie();
  const [rec] = await sql<{ id: string }>(
    "insert into user_recommendations (user_id, movie_id, score, algorithm) values (?, ?, 0.9, 'hybrid') returning id::text as id",
    [a.userId, own.movieId],
  );
  own.recId = rec!.id;
  const inter = await recs.recordInteraction({ movieId: own.otherMovieId, type: InteractionType.LIKE }, { headers: a.headers });
  own.interactionId = inter.interaction!.id;
  own.deviceToken = `iso-device-${randomBytes(8).toString("hex")}`;
  const dev = await notes.registerDevice({ deviceToken: own.deviceToken, deviceType: DeviceType.IOS, deviceName: "A's phone" }, { headers: a.headers });
  own.deviceId = dev.device!.id;
  const [n] = await sql<{ id: string }>(
    "insert into notification_logs (user_id, notification_type, subject, content, recipient) values (?, 'email', 'For A only', 'Hi A', ?) returning id::text as id",
    [a.userId, a.email],
  );
  own.notificationId = n!.id;
  own.feedbackRequestId = `fb-${randomBytes(4).toString("hex")}`;
  const fb = await recs.submitFeedback(
    { recommendationId: own.recId, feedbackType: FeedbackType.POSITIVE, comment: "A's own words", requestId: own.feedbackRequestId },
    { headers: a.headers },
  );
  own.feedbackId = fb.feedbackId;
});
afterAll(async () => ts?.close());

describe("another user's ids", () => {
  it("RecordRecommendationClick and SubmitFeedback on A's recommendation: NOT_FOUND for B, A's row untouched", async () => {
    expect(await failure(recs.recordRecommendationClick({ recommendationId: own.recId }, { headers: b.headers }))).toMatchObject({ code: Code.NotFound });
    expect(
      await failure(recs.submitFeedback({ recommendationId: own.recId, feedbackType: FeedbackType.NEGATIVE, comment: "B was here" }, { headers: b.headers })),
    ).toMatchObject({ code: Code.NotFound });
    const [r] = await sql<{ clicked: boolean }>("select clicked from user_recommendations where id = ?", [own.recId]);
    expect(r!.clicked).toBe(false);
    const fb = await sql("select user_id::text as user_id, comment from recommendation_feedback where recommendation_id = ?", [own.recId]);
    expect(fb).toEqual([{ user_id: a.userId, comment: "A's own words" }]);
  });

  it("RecordInteraction crediting A's recommendation records B's interaction but credits nothing of A's", async () => {
    const res = await recs.recordInteraction({ movieId: own.movieId, type: InteractionType.VIEW, recommendationId: own.recId }, { headers: b.headers });
    expect(res.interaction!.movieId).toBe(own.movieId);
    const [r] = await sql<{ clicked: boolean }>("select clicked from user_recommendations where id = ?", [own.recId]);
    expect(r!.clicked).toBe(false);
    const mine = await sql("select user_id::text as user_id from user_movie_interactions where id = ?", [res.interaction!.id]);
    expect(mine).toEqual([{ user_id: b.userId }]);
  });

  it("SubmitFeedback with A's request_id gives B nothing of A's (idempotency keys are per user)", async () => {
    const [bRec] = await sql<{ id: string }>(
      "insert into user_recommendations (user_id, movie_id, score, algorithm) values (?, ?, 0.5, 'hybrid') returning id::text as id",
      [b.userId, own.movieId],
    );
    const fb = await recs.submitFeedback(
      { recommendationId: bRec!.id, feedbackType: FeedbackType.NEGATIVE, comment: "B's words", requestId: own.feedbackRequestId },
      { headers: b.headers },
    );
    expect(fb.feedbackId).not.toBe(own.feedbackId);
    const rows = await sql("select user_id::text as user_id, comment from recommendation_feedback where id = ?", [fb.feedbackId]);
    expect(rows).toEqual([{ user_id: b.userId, comment: "B's words" }]);
  });

  it("DeleteInteraction by A's interaction id deletes nothing; A's like stays", async () => {
    const res = await recs.deleteInteraction({ target: { case: "interactionId", value: own.interactionId } }, { headers: b.headers });
    expect(res.deleted).toBe(false);
    // By key: B has no like on that movie, so nothing of A's goes either.
    const byKey = await recs.deleteInteraction({ target: { case: "key", value: { movieId: own.otherMovieId, type: InteractionType.LIKE } } }, { headers: b.headers });
    expect(byKey.deleted).toBe(false);
    expect(await sql("select id from user_movie_interactions where id = ?", [own.interactionId])).toHaveLength(1);
  });

  it("UnregisterDevice by A's device id deletes nothing; A's device stays", async () => {
    const res = await notes.unregisterDevice({ target: { case: "deviceId", value: own.deviceId } }, { headers: b.headers });
    expect(res.deleted).toBe(false);
    expect(await sql("select id from user_devices where id = ? and user_id = ?", [own.deviceId, a.userId])).toHaveLength(1);
  });

  it("ListNotifications for A's user id: PERMISSION_DENIED for B", async () => {
    expect(await failure(notes.listNotifications({ userId: a.userId }, { headers: b.headers }))).toMatchObject({ code: Code.PermissionDenied });
    // A may name themself.
    const mine = await notes.listNotifications({ userId: a.userId }, { headers: a.headers });
    expect(mine.notifications.map((n) => n.id)).toContain(own.notificationId);
  });

  it("GetUser and SetUserActive on A: PERMISSION_DENIED for B (staff only), and A stays active", async () => {
    expect(await failure(users.getUser({ userId: a.userId }, { headers: b.headers }))).toMatchObject({ code: Code.PermissionDenied });
    expect(await failure(users.setUserActive({ userId: a.userId, active: false }, { headers: b.headers }))).toMatchObject({ code: Code.PermissionDenied });
    expect((await users.getMe({}, { headers: a.headers })).user!.id).toBe(a.userId);
  });

  it("Logout with A's refresh token does not end A's session", async () => {
    await users.logout({ refreshToken: a.refreshToken }, { headers: b.headers });
    expect((await users.getMe({}, { headers: a.headers })).user!.id).toBe(a.userId);
    // A's refresh token still works (rotates) after B's attempt.
    const rotated = await users.refreshSession({ refreshToken: a.refreshToken });
    expect(rotated.accessToken).not.toBe("");
  });
});

describe("B's own lists", () => {
  it("hold none of A's rows: interactions, recommendations, devices, notifications, export", async () => {
    const interactions = await recs.listInteractions({ pageSize: 200 }, { headers: b.headers });
    expect(interactions.interactions.map((i) => i.id)).not.toContain(own.interactionId);
    expect(interactions.interactions.length).toBeGreaterThan(0); // B's own view from the test above is there
    const devices = await notes.listDevices({}, { headers: b.headers });
    expect(devices.devices.map((d) => d.id)).not.toContain(own.deviceId);
    const list = await notes.listNotifications({}, { headers: b.headers });
    expect(list.notifications.map((n) => n.id)).not.toContain(own.notificationId);
    const recList = await recs.getRecommendations({ limit: 50 }, { headers: b.headers }).catch(() => undefined);
    for (const r of recList?.recommendations ?? []) expect(r.id).not.toBe(own.recId);
    const exported = (await users.exportMyData({}, { headers: b.headers })).json;
    for (const id of [own.deviceToken, "A's own words", "For A only", a.email, a.username]) expect(exported).not.toContain(id);
    expect(exported).toContain(b.username);
  });
});
