/**
 * Issue 15 gap: the console's Notifications page lists recent delivery failures with their reasons. Staff call
 * ListNotifications with all_users (and status FAILED), paged with the API's page tokens; anyone else is
 * PERMISSION_DENIED. Real server, Connect JSON as the console sends it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { NotificationStatus } from "../../gen/movierec/notification/v1/notification_pb.js";
import { NotificationService } from "../../gen/movierec/notification/v1/notification_service_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";

let ts: TestServer;
let notifications: Client<typeof NotificationService>;
let staff: TestUser;
let alice: TestUser;
let bob: TestUser;
/** Our failed rows, newest first: (user, reason). */
const failures: Array<{ userId: string; reason: string }> = [];

beforeAll(async () => {
  ts = await startTestServer();
  notifications = createClient(NotificationService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
  staff = await createTestUser(ts.deps, { staff: true, prefix: "failstaff" });
  alice = await createTestUser(ts.deps, { prefix: "failalice" });
  bob = await createTestUser(ts.deps, { prefix: "failbob" });
  const tag = Date.now().toString(36);
  // Other test files share this database and may fail notifications too: ours are dated an hour ahead, so they are
  // the newest. Five failures of two users, and a sent one between them that must not be listed.
  const rows: Array<[TestUser, string, string]> = [
    [alice, "failed", `550 mailbox unavailable ${tag}`],
    [bob, "failed", `push subscription expired ${tag}`],
    [alice, "sent", ""],
    [bob, "failed", `421 try again later ${tag}`],
    [alice, "failed", `invalid recipient ${tag}`],
    [bob, "failed", `provider timeout ${tag}`],
  ];
  for (const [i, [user, status, reason]] of rows.entries()) {
    await ts.orm.em.fork().execute(
      `insert into notification_logs (user_id, notification_type, subject, content, recipient, status, error_message, created_at)
       values (?, 'email', 'Subject', 'Body', 'someone@example.test', ?, ?, now() + interval '1 hour' + ? * interval '1 second')`,
      [user.userId, status, reason, i],
    );
    if (status === "failed") failures.unshift({ userId: user.userId, reason });
  }
});
afterAll(async () => ts?.close());

describe("recent failures across users (staff)", () => {
  it("pages newest first with their reasons, every user's, only failures", async () => {
    const seen: Array<{ userId: string; reason: string }> = [];
    let pageToken = "";
    let pages = 0;
    // Pages of 2 until our five are through: 2 + 2 + 1 (the last page may hold an older failure of another file).
    while (seen.length < 5 && pages < 10) {
      const res = await notifications.listNotifications({ allUsers: true, status: NotificationStatus.FAILED, pageSize: 2, pageToken }, { headers: staff.headers });
      if (pages < 2) expect(res.notifications.length).toBe(2);
      else expect(res.notifications.length).toBeGreaterThan(0);
      // Only failures; of any type (the last page may hold another file's push failure).
      expect(res.notifications.every((n) => n.status === NotificationStatus.FAILED)).toBe(true);
      seen.push(...res.notifications.map((n) => ({ userId: n.userId, reason: n.errorMessage })));
      pages++;
      if (seen.length < 5) expect(res.nextPageToken).not.toBe("");
      pageToken = res.nextPageToken;
    }
    expect(pages).toBe(3);
    expect(seen.slice(0, 5)).toEqual(failures);
    // Staff see recipients unmasked (as for one user's list).
    const first = await notifications.listNotifications({ allUsers: true, status: NotificationStatus.FAILED, pageSize: 1 }, { headers: staff.headers });
    expect(first.notifications[0]!.recipient).toBe("someone@example.test");
  });

  it("is PERMISSION_DENIED to a non-staff user, whose own list stays theirs", async () => {
    const err = await notifications.listNotifications({ allUsers: true, status: NotificationStatus.FAILED }, { headers: alice.headers }).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.PermissionDenied);
    expect(ConnectError.from(err).rawMessage).toBe("only staff may list every user's notifications");
    const own = await notifications.listNotifications({ status: NotificationStatus.FAILED }, { headers: alice.headers });
    expect(own.notifications.map((n) => n.userId)).toEqual([alice.userId, alice.userId]);
  });

  it("user_id together with all_users is INVALID_ARGUMENT", async () => {
    const err = await notifications.listNotifications({ allUsers: true, userId: alice.userId }, { headers: staff.headers }).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.InvalidArgument);
    expect(ConnectError.from(err).rawMessage).toContain("name a user_id or ask for all_users, not both");
  });

  it("Connect JSON as curl sends it: the form the proto comment shows", async () => {
    const res = await fetch(`${ts.baseUrl}/movierec.notification.v1.NotificationService/ListNotifications`, {
      method: "POST",
      headers: { "content-type": "application/json", ...staff.headers },
      body: JSON.stringify({ allUsers: true, status: "NOTIFICATION_STATUS_FAILED", pageSize: 1 }),
    });
    const json = (await res.json()) as { notifications: Array<{ errorMessage: string; status: string }> };
    expect(res.status).toBe(200);
    expect(json.notifications[0]).toMatchObject({ status: "NOTIFICATION_STATUS_FAILED", errorMessage: failures[0]!.reason });
  });
});
