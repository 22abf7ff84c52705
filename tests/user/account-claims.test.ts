/**
 * The account claims of README.md and SECURITY.md, each checked on the real server with real tokens and rows:
 * default token lifetimes and the token's header (HS256 + kid), the password rule on the email, weaker hashes
 * upgraded at the next login, phone numbers moving to a new key when next written, no secret in the logs of
 * ChangePassword and DeleteAccount, and an unknown login costing a password verification like a known one
 * (review of 2026-11-30, items 6, 7, 8, 16, 17, 18).
 */
import { randomBytes, randomInt } from "node:crypto";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import type { TestDatabase } from "../support/database.ts";
import { createMigratedDatabase } from "../faults/support/own-database.ts";

function userClient(ts: TestServer): Client<typeof UserService> {
  return createClient(UserService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
}

const key = (): string => randomBytes(32).toString("base64");
const fresh = () => {
  const username = `ac_${randomBytes(5).toString("hex")}`;
  // The email shares nothing with the username, so a rule on one is not mistaken for a rule on the other.
  return { username, email: `mail.${randomBytes(5).toString("hex")}@example.test`, password: `pw-${randomBytes(8).toString("hex")}` };
};
const errOf = (e: unknown) => ConnectError.from(e);
/** The error a call must fail with (a success fails the test). */
const failure = (p: Promise<unknown>): Promise<ConnectError> =>
  p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => ConnectError.from(e),
  );

/** Every log line the server writes, at trace level, into memory. */
function memoryLog() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, log: pino({ level: "trace" }, sink) };
}

describe("tokens (defaults)", () => {
  let ts: TestServer;
  let client: Client<typeof UserService>;
  beforeAll(async () => {
    ts = await startTestServer();
    client = userClient(ts);
  });
  afterAll(async () => ts?.close());

  it("Login issues a 15-minute HS256 access token with kid and sub/sid/staff, and a 30-day refresh token", async () => {
    const u = fresh();
    const reg = await client.register(u);
    const before = Date.now();
    const res = await client.login({ login: u.username, password: u.password });
    const header = decodeProtectedHeader(res.accessToken);
    expect(header).toMatchObject({ alg: "HS256", kid: "k1", typ: "JWT" });
    // Signed with the configured secret (a token signed with anything else would not verify).
    const { payload } = await jwtVerify(res.accessToken, new TextEncoder().encode(ts.deps.config.auth.jwtSecret), { algorithms: ["HS256"] });
    expect(payload.sub).toBe(reg.user!.id);
    expect(payload.sid).toMatch(/^[1-9][0-9]*$/);
    expect(payload.staff).toBe(false);
    expect(payload.exp! - payload.iat!).toBe(900);
    const accessExpires = timestampDate(res.accessTokenExpiresAt!).getTime();
    expect(accessExpires).toBe(payload.exp! * 1000);
    expect(Math.abs(accessExpires - before - 900_000)).toBeLessThan(60_000);
    // The refresh token: 30 days, in the response and in the row (stored as a SHA-256 hash only).
    const refreshExpires = timestampDate(res.refreshTokenExpiresAt!).getTime();
    expect(Math.abs(refreshExpires - before - 30 * 86_400_000)).toBeLessThan(60_000);
    const rows = await ts.orm.em.fork().execute<{ expires_at: Date; token_hash: string }[]>(
      "select s.expires_at, t.token_hash from user_refresh_tokens t join user_sessions s on s.id = t.session_id where s.id = ? order by t.id desc limit 1",
      [payload.sid],
    );
    expect(Math.abs(new Date(rows[0]!.expires_at).getTime() - refreshExpires)).toBeLessThan(1_000);
    expect(rows[0]!.token_hash).not.toContain(res.refreshToken);
  });

  it("a token whose header names another algorithm or that is unsigned is refused", async () => {
    const u = fresh();
    const reg = await client.register(u);
    const [, body] = reg.accessToken.split(".");
    const none = `${Buffer.from(JSON.stringify({ alg: "none", kid: "k1", typ: "JWT" })).toString("base64url")}.${body}.`;
    const err = await client.getMe({}, { headers: { authorization: `Bearer ${none}` } }).catch(errOf);
    expect(err).toMatchObject({ code: Code.Unauthenticated });
    expect(decodeJwt(reg.accessToken).sub).toBe(reg.user!.id);
  });
});

describe("password rules", () => {
  let ts: TestServer;
  let client: Client<typeof UserService>;
  beforeAll(async () => {
    ts = await startTestServer();
    client = userClient(ts);
  });
  afterAll(async () => ts?.close());

  it("a password that contains the email is refused at Register and at ChangePassword, naming the field", async () => {
    const u = fresh();
    const err = await failure(client.register({ ...u, password: `my-${u.email}-pass` }));
    expect(err).toMatchObject({ code: Code.InvalidArgument });
    expect(err.rawMessage).toContain("password");
    // Any case of it.
    const upper = await client.register({ ...u, password: `X${u.email.toUpperCase()}` }).catch(errOf);
    expect(upper).toMatchObject({ code: Code.InvalidArgument });
    const reg = await client.register(u);
    const headers = { authorization: `Bearer ${reg.accessToken}` };
    const change = await failure(client.changePassword({ currentPassword: u.password, newPassword: `1${u.email}` }, { headers }));
    expect(change).toMatchObject({ code: Code.InvalidArgument });
    expect(change.rawMessage).toContain("new_password");
  });
});

describe("argon2id parameters", () => {
  it("new hashes use m=19456,t=2,p=1 by default; a weaker hash is rewritten at the next login and still verifies", async () => {
    const weak = await startTestServer({ env: { PASSWORD_MEMORY_KIB: "1024", PASSWORD_ITERATIONS: "1" } });
    const u = fresh();
    let userId: string;
    try {
      userId = (await userClient(weak).register(u)).user!.id;
    } finally {
      await weak.close();
    }
    const ts = await startTestServer();
    try {
      const hashOf = async () =>
        (await ts.orm.em.fork().execute<{ password: string }[]>("select password from users where id = ?", [userId]))[0]!.password;
      expect(await hashOf()).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
      const client = userClient(ts);
      // A failed login does not rewrite it (only someone who knows the password may).
      await client.login({ login: u.username, password: "not-the-password" }).catch(() => undefined);
      expect(await hashOf()).toMatch(/m=1024,t=1,p=1/);
      await client.login({ login: u.username, password: u.password });
      expect(await hashOf()).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      await client.login({ login: u.email, password: u.password });
      const other = fresh();
      const reg = await client.register(other);
      const [row] = await ts.orm.em.fork().execute<{ password: string }[]>("select password from users where id = ?", [reg.user!.id]);
      expect(row!.password).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    } finally {
      await ts.close();
    }
  });
});

describe("data key rotation", () => {
  // A database of its own: a row under a key the other test servers do not have would make their ListUsers fail.
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase();
  });
  afterAll(async () => db?.drop());

  it("after a new key is prepended, old phone numbers still read, and move to the new key when next written", async () => {
    const oldKey = `old:${key()}`;
    const newKey = `new:${key()}`;
    const phone = `+1415${randomInt(1_000_000, 9_999_999)}`;
    const before = await startTestServer({ env: { DATABASE_URL: db.url, DATA_ENCRYPTION_KEYS: oldKey } });
    const u = fresh();
    let userId: string;
    try {
      userId = (await userClient(before).register({ ...u, phoneNumber: phone })).user!.id;
    } finally {
      await before.close();
    }
    const ts = await startTestServer({ env: { DATABASE_URL: db.url, DATA_ENCRYPTION_KEYS: `${newKey},${oldKey}` } });
    try {
      const stored = async () =>
        (await ts.orm.em.fork().execute<{ phone_number: string }[]>("select phone_number from users where id = ?", [userId]))[0]!.phone_number;
      expect(await stored()).toMatch(/^old:/);
      expect(await stored()).not.toContain(phone.slice(1));
      const client = userClient(ts);
      const login = await client.login({ login: u.username, password: u.password });
      const headers = { authorization: `Bearer ${login.accessToken}` };
      expect((await client.getMe({}, { headers })).user!.phoneNumber).toBe(phone);
      // A write of another field leaves the value as it is; writing the phone number re-encrypts it.
      await client.updateProfile({ user: { firstName: "Ada" }, updateMask: { paths: ["first_name"] } }, { headers });
      expect(await stored()).toMatch(/^old:/);
      await client.updateProfile({ user: { phoneNumber: phone }, updateMask: { paths: ["phone_number"] } }, { headers });
      expect(await stored()).toMatch(/^new:/);
      expect((await client.getMe({}, { headers })).user!.phoneNumber).toBe(phone);
    } finally {
      await ts.close();
    }
    // The old key alone can no longer read it: the value really is under the new key.
    const oldOnly = await startTestServer({ env: { DATABASE_URL: db.url, DATA_ENCRYPTION_KEYS: oldKey } });
    try {
      const login = await userClient(oldOnly).login({ login: u.username, password: u.password }).catch(errOf);
      const phoneSeen = login instanceof ConnectError ? undefined : login.user?.phoneNumber;
      expect(phoneSeen).not.toBe(phone);
    } finally {
      await oldOnly.close();
    }
  });
});

describe("secrets in the logs", () => {
  it("ChangePassword and DeleteAccount (right and wrong passwords) log no password, hash or token, even at trace level", async () => {
    const { lines, log } = memoryLog();
    const ts = await startTestServer({ log });
    try {
      const client = userClient(ts);
      const u = fresh();
      const phone = `+1415${randomInt(1_000_000, 9_999_999)}`;
      const reg = await client.register({ ...u, phoneNumber: phone });
      const headers = { authorization: `Bearer ${reg.accessToken}` };
      const newPassword = `new-pw-${randomBytes(8).toString("hex")}`;
      const wrong = `wrong-pw-${randomBytes(8).toString("hex")}`;
      expect(await client.changePassword({ currentPassword: wrong, newPassword }, { headers }).catch(errOf)).toMatchObject({ code: Code.PermissionDenied });
      await client.changePassword({ currentPassword: u.password, newPassword }, { headers });
      const login = await client.login({ login: u.username, password: newPassword });
      const h2 = { authorization: `Bearer ${login.accessToken}` };
      const [hashRow] = await ts.orm.em.fork().execute<{ password: string }[]>("select password from users where id = ?", [reg.user!.id]);
      expect(await client.deleteAccount({ password: wrong }, { headers: h2 }).catch(errOf)).toMatchObject({ code: Code.PermissionDenied });
      await client.deleteAccount({ password: newPassword }, { headers: h2 });
      const all = lines.join("");
      // The calls were logged (so the check below looks at real output) …
      expect(all).toContain("UserService/ChangePassword");
      expect(all).toContain("UserService/DeleteAccount");
      // … and none of the secrets, nor the hash (whole or its salt+digest part).
      const hashTail = hashRow!.password.split("$").slice(-2).join("$");
      for (const secret of [u.password, newPassword, wrong, reg.accessToken, reg.refreshToken, login.accessToken, login.refreshToken, hashRow!.password, hashTail, phone]) {
        expect(all).not.toContain(secret);
      }
    } finally {
      await ts.close();
    }
  });
});

describe("login timing", () => {
  it("an unknown login costs a full password verification, like a wrong password for a known account", { timeout: 120_000 }, async () => {
    // A costly KDF (about 100 ms and more a verification) makes the difference a skipped verification would make
    // (a few ms against a hundred) far larger than a loaded machine's noise.
    const ts = await startTestServer({ env: { PASSWORD_MEMORY_KIB: "65536", PASSWORD_ITERATIONS: "3", LOGIN_MAX_FAILURES_PER_ACCOUNT: "100", LOGIN_MAX_FAILURES_PER_IP: "1000" } });
    try {
      const client = userClient(ts);
      const u = fresh();
      await client.register(u);
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const timed = async (login: string) => {
        const t = performance.now();
        const err = await failure(client.login({ login, password: "not-the-password-1" }));
        expect(err.code).toBe(Code.Unauthenticated);
        return performance.now() - t;
      };
      const known: number[] = [];
      const unknown: number[] = [];
      for (let k = 0; k < 5; k++) {
        known.push(await timed(u.username));
        unknown.push(await timed(`nobody_${randomBytes(4).toString("hex")}`));
      }
      const show = `known ${known.map((x) => x.toFixed(0)).join(", ")} ms; unknown ${unknown.map((x) => x.toFixed(0)).join(", ")} ms`;
      expect(median(unknown), show).toBeGreaterThan(median(known) * 0.5);
      expect(median(known), show).toBeGreaterThan(30);
    } finally {
      await ts.close();
    }
  });
});
