/**
 * The whole account life cycle through the real server, over gRPC (grpc-js, as grpcurl would) and Connect:
 * register, log in, refresh (rotation and reuse detection), log out, change password, deactivation, token expiry.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { grpcClient, grpcUnary } from "../support/grpc-client.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

let ts: TestServer;
let connect: Client<typeof UserService>;
let g: grpc.Client;
beforeAll(async () => {
  ts = await startTestServer();
  connect = createClient(UserService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
  g = grpcClient(ts.grpcAddress);
});
afterAll(async () => {
  g?.close();
  await ts?.close();
});

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const codeOf = (p: Promise<unknown>) => p.then(() => "OK" as const, (e: unknown) => Code[ConnectError.from(e).code]);
const fresh = () => {
  const username = `life_${randomBytes(5).toString("hex")}`;
  return { username, email: `${username}@Example.test`, password: `correct-horse-${randomBytes(4).toString("hex")}` };
};

describe("account life cycle", () => {
  it("registers over gRPC with user, profile and notification preferences, then logs in by email over Connect", async () => {
    const who = fresh();
    const md = new grpc.Metadata();
    const reg = await grpcUnary(g, UserService.method.register, { ...who, firstName: "Ada", phoneNumber: "+14155550123" }, md);
    expect(reg.user?.username).toBe(who.username);
    expect(reg.user?.phoneNumber).toBe("+14155550123");
    expect(reg.user?.profile).toMatchObject({ preferredLanguage: "en", timezone: "UTC" });
    expect(reg.accessToken.split(".")).toHaveLength(3);
    expect(reg.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const prefs = await ts.orm.em.fork().execute("select weekly_digest, digest_day, digest_time, timezone from notification_preferences where user_id = ?", [reg.user!.id]);
    expect(prefs).toEqual([{ weekly_digest: true, digest_day: 1, digest_time: "09:00:00", timezone: "UTC" }]);

    // Email is case-insensitive for login; last_login is recorded.
    const login = await connect.login({ login: who.email.toUpperCase(), password: who.password });
    expect(login.user?.id).toBe(reg.user!.id);
    expect(login.user?.lastLogin).toBeDefined();
    const me = await connect.getMe({}, bearer(login.accessToken));
    expect(me.user?.firstName).toBe("Ada");
  });

  it("refuses duplicates naming which field, weak passwords, and bad input", async () => {
    const who = fresh();
    await connect.register(who);
    const dupName = await connect.register({ ...fresh(), username: who.username }).catch((e: unknown) => ConnectError.from(e));
    expect(dupName).toMatchObject({ code: Code.AlreadyExists, rawMessage: "username is already taken" });
    const dupMail = await connect.register({ ...fresh(), email: who.email.toLowerCase() }).catch((e: unknown) => ConnectError.from(e));
    expect(dupMail).toMatchObject({ code: Code.AlreadyExists, rawMessage: "email is already registered" });
    const n = fresh();
    const weak = await connect.register({ ...n, password: `${n.username}1` }).catch((e: unknown) => ConnectError.from(e));
    expect(weak).toMatchObject({ code: Code.InvalidArgument });
    expect((weak as ConnectError).rawMessage).toMatch(/^password: /);
    const dob = await connect.register({ ...fresh(), dateOfBirth: "2001-02-30" }).catch((e: unknown) => ConnectError.from(e));
    expect(dob).toMatchObject({ code: Code.InvalidArgument, rawMessage: "date_of_birth: must be a calendar date YYYY-MM-DD" });
  });

  it("answers the same for a wrong password and an unknown account", async () => {
    const who = fresh();
    await connect.register(who);
    const wrong = await connect.login({ login: who.username, password: "not-the-password" }).catch((e: unknown) => ConnectError.from(e));
    const unknown = await connect.login({ login: `nobody_${randomBytes(4).toString("hex")}`, password: "whatever-it-is" }).catch((e: unknown) => ConnectError.from(e));
    expect(wrong).toMatchObject({ code: Code.Unauthenticated, rawMessage: "invalid login or password" });
    expect(unknown).toMatchObject({ code: Code.Unauthenticated, rawMessage: "invalid login or password" });
  });

  it("rotates refresh tokens, and a re-used one revokes the whole session", async () => {
    const reg = await connect.register(fresh());
    const r1 = await connect.refreshSession({ refreshToken: reg.refreshToken });
    expect(r1.refreshToken).not.toBe(reg.refreshToken);
    expect(await codeOf(connect.getMe({}, bearer(r1.accessToken)))).toBe("OK");
    const r2 = await connect.refreshSession({ refreshToken: r1.refreshToken });
    // The first token again: theft is assumed, the family dies — including the newest tokens.
    expect(await codeOf(connect.refreshSession({ refreshToken: reg.refreshToken }))).toBe("Unauthenticated");
    expect(await codeOf(connect.refreshSession({ refreshToken: r2.refreshToken }))).toBe("Unauthenticated");
    expect(await codeOf(connect.getMe({}, bearer(r2.accessToken)))).toBe("Unauthenticated");
    const rows = await ts.orm.em.fork().execute("select revoked_reason from user_sessions where user_id = ?", [reg.user!.id]);
    expect(rows).toEqual([{ revoked_reason: "token_reuse" }]);
    // Only hashes are stored.
    const stored = await ts.orm.em.fork().execute<{ token_hash: string }[]>(
      "select token_hash from user_refresh_tokens t join user_sessions s on s.id = t.session_id where s.user_id = ?",
      [reg.user!.id],
    );
    expect(stored).toHaveLength(3);
    for (const t of [reg.refreshToken, r1.refreshToken, r2.refreshToken]) expect(stored.map((s) => s.token_hash)).not.toContain(t);
  });

  it("logout ends one session; logout all ends every session", async () => {
    const who = fresh();
    const a = await connect.register(who);
    const b = await connect.login({ login: who.username, password: who.password });
    const c = await connect.login({ login: who.username, password: who.password });
    await connect.logout({}, bearer(a.accessToken));
    expect(await codeOf(connect.getMe({}, bearer(a.accessToken)))).toBe("Unauthenticated");
    expect(await codeOf(connect.refreshSession({ refreshToken: a.refreshToken }))).toBe("Unauthenticated");
    expect(await codeOf(connect.getMe({}, bearer(b.accessToken)))).toBe("OK");
    await connect.logout({ allSessions: true }, bearer(b.accessToken));
    expect(await codeOf(connect.getMe({}, bearer(b.accessToken)))).toBe("Unauthenticated");
    expect(await codeOf(connect.getMe({}, bearer(c.accessToken)))).toBe("Unauthenticated");
  });

  it("changing the password keeps the current session, ends the others, and the old password stops working", async () => {
    const who = fresh();
    const a = await connect.register(who);
    const b = await connect.login({ login: who.username, password: who.password });
    const next = `${who.password}-new`;
    expect(await codeOf(connect.changePassword({ currentPassword: "wrong-password", newPassword: next }, bearer(a.accessToken)))).toBe("PermissionDenied");
    await connect.changePassword({ currentPassword: who.password, newPassword: next }, bearer(a.accessToken));
    expect(await codeOf(connect.getMe({}, bearer(a.accessToken)))).toBe("OK");
    expect(await codeOf(connect.getMe({}, bearer(b.accessToken)))).toBe("Unauthenticated");
    expect(await codeOf(connect.login({ login: who.username, password: who.password }))).toBe("Unauthenticated");
    expect(await codeOf(connect.login({ login: who.username, password: next }))).toBe("OK");
  });

  it("an inactive account can neither log in nor use its tokens", async () => {
    const who = fresh();
    const a = await connect.register(who);
    await ts.orm.em.fork().execute("update users set is_active = false where id = ?", [a.user!.id]);
    expect(await codeOf(connect.getMe({}, bearer(a.accessToken)))).toBe("Unauthenticated");
    expect(await codeOf(connect.refreshSession({ refreshToken: a.refreshToken }))).toBe("Unauthenticated");
    expect(await codeOf(connect.login({ login: who.username, password: who.password }))).toBe("Unauthenticated");
  });

  it("a retried registration with the same request_id returns the same account", async () => {
    const who = { ...fresh(), requestId: `req-${randomBytes(6).toString("hex")}` };
    const first = await connect.register(who);
    const again = await connect.register(who);
    expect(again.user?.id).toBe(first.user?.id);
    expect(again.refreshToken).not.toBe(first.refreshToken);
  });
});

describe("token expiry", () => {
  let short: TestServer;
  beforeAll(async () => {
    short = await startTestServer({ env: { ACCESS_TOKEN_TTL_SECONDS: "1" } });
  });
  afterAll(async () => {
    await short?.close();
  });

  it("an expired access token is refused; the refresh token gets a new one", async () => {
    const client = createClient(UserService, createConnectTransport({ baseUrl: short.baseUrl, httpVersion: "1.1" }));
    const reg = await client.register(fresh());
    expect(await codeOf(client.getMe({}, bearer(reg.accessToken)))).toBe("OK");
    await new Promise((r) => setTimeout(r, 2100));
    expect(await codeOf(client.getMe({}, bearer(reg.accessToken)))).toBe("Unauthenticated");
    const next = await client.refreshSession({ refreshToken: reg.refreshToken });
    expect(await codeOf(client.getMe({}, bearer(next.accessToken)))).toBe("OK");
  });
});
