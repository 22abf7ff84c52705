import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { DEMO_STAFF, ensureDemoStaff } from "../../src/demo/demo-staff.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts?.close();
});

describe("the demo's staff account", () => {
  it("is created once, with its profile and preferences, and signs in as staff", async () => {
    await ensureDemoStaff(ts.orm);
    await ensureDemoStaff(ts.orm); // idempotent
    const rows = await ts.orm.em.fork().getConnection().execute<Array<{ is_staff: boolean; profiles: string; prefs: string }>>(
      `select u.is_staff,
              (select count(*) from user_profiles p where p.user_id = u.id)::text as profiles,
              (select count(*) from notification_preferences n where n.user_id = u.id)::text as prefs
         from users u where u.username = ?`,
      [DEMO_STAFF.username],
    );
    expect(rows).toEqual([{ is_staff: true, profiles: "1", prefs: "1" }]);

    const client = createClient(UserService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
    const login = await client.login({ login: DEMO_STAFF.username, password: DEMO_STAFF.password });
    const headers = { authorization: `Bearer ${login.accessToken}` };
    // ListUsers is staff only: a non-staff caller would get PERMISSION_DENIED.
    const users = await client.listUsers({ pageSize: 5 }, { headers });
    expect(users.users.length).toBeGreaterThan(0);
  });
});
