/**
 * Every user has a profile (migration 0017), and an account without one still reads. Users written in bulk (the
 * MovieLens import's placeholder viewers, the demo population) once had none, and GetUser/ListUsers answered
 * INTERNAL for them — a whole ListUsers page failed for one such row.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";
import { ensureUsers } from "../../src/modules/catalog/dataset-movielens.ts";

let ts: TestServer;
let client: Client<typeof UserService>;
let staff: TestUser;
beforeAll(async () => {
  ts = await startTestServer();
  client = createClient(UserService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
  staff = await createTestUser(ts.deps, { staff: true });
});
afterAll(async () => ts?.close());

const as = (u: TestUser) => ({ headers: u.headers });

describe("a profile per user", () => {
  it("an account written without a profile row is listed and read with the profile's defaults", async () => {
    const tag = `noprof${randomBytes(4).toString("hex")}`;
    const [row] = await ts.orm.em.fork().execute<{ id: string }[]>("insert into users (username, email, password) values (?, ?, '!') returning id::text as id", [tag, `${tag}@example.test`]);
    const page = await client.listUsers({ query: tag, pageSize: 10 }, as(staff));
    expect(page.users.map((u) => u.id)).toEqual([row!.id]);
    expect(page.users[0]!.profile?.timezone).toBe("UTC"); // the default a profile row would have
    const one = await client.getUser({ userId: row!.id }, as(staff));
    expect(one.user?.username).toBe(tag);
  });

  it("the MovieLens import writes each placeholder viewer with a profile", async () => {
    const pool = new pg.Pool({ connectionString: ts.deps.config.databaseUrl, max: 2 });
    try {
      const mlIds = Array.from({ length: 5 }, (_, k) => 900_000_000 + Number.parseInt(randomBytes(3).toString("hex"), 16) * 8 + k);
      const userIds = new Map<number, string>();
      await ensureUsers(pool, mlIds, userIds);
      expect(userIds.size).toBe(5);
      const rows = await pool.query<{ n: number }>("select count(*)::int as n from user_profiles where user_id = any($1::bigint[])", [[...userIds.values()]]);
      expect(rows.rows[0]!.n).toBe(5);
    } finally {
      await pool.end();
    }
  });
});
