/**
 * Login throttling in Redis: per (account, address), per address, per account; kicks in, tells when to retry, and
 * recovers. Issue 11 rows 1 (parallel guesses), 2 (username vs email), 15 (no raw IPs in Redis), 16 (no lock-out of
 * the owner by a stranger). Distinct loopback source addresses (127.0.0.x) stand for distinct clients.
 */
import { randomBytes } from "node:crypto";
import type http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import { scanKeys } from "../../src/platform/redis.ts";

const WINDOW_MS = 2500;
let ts: TestServer;
let client: Client<typeof UserService>;
beforeAll(async () => {
  // A Redis prefix of its own: other files' failed logins from 127.0.0.1 must not count against this file's limits.
  ts = await startTestServer({ env: { REDIS_PREFIX: `thr${randomBytes(4).toString("hex")}`, LOGIN_MAX_FAILURES_PER_ACCOUNT: "3", LOGIN_MAX_FAILURES_PER_IP: "8", LOGIN_WINDOW_MS: String(WINDOW_MS) } });
  client = createClient(UserService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
});
afterAll(async () => {
  await ts?.close();
});

const attempt = (login: string, password: string, from?: Client<typeof UserService>) =>
  (from ?? client).login({ login, password }).then(() => undefined, (e: unknown) => ConnectError.from(e));


describe("login throttling", () => {
  it("locks an account after 3 failures, even for the right password, says when to retry, and recovers", async () => {
    const username = `thr_${randomBytes(5).toString("hex")}`;
    const password = `right-password-${randomBytes(3).toString("hex")}`;
    await client.register({ username, email: `${username}@example.test`, password });
    for (let i = 0; i < 3; i++) expect((await attempt(username, "wrong-password"))?.code).toBe(Code.Unauthenticated);
    const locked = await attempt(username, password);
    expect(locked?.code).toBe(Code.ResourceExhausted);
    expect(Number(locked?.metadata.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, WINDOW_MS + 200));
    expect(await attempt(username, password)).toBeUndefined();
  });
});

// A long window, so counts cannot expire while a slow (loaded) machine is still checking.
describe("login throttling: parallel guesses, login names, strangers, stored addresses", () => {
  let lts: TestServer;
  let lprefix: string;
  let lclient: Client<typeof UserService>;
  beforeAll(async () => {
    lprefix = `thl${randomBytes(4).toString("hex")}`;
    lts = await startTestServer({
      env: { REDIS_PREFIX: lprefix, LOGIN_MAX_FAILURES_PER_ACCOUNT: "3", LOGIN_MAX_FAILURES_PER_IP: "50", LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL: "6", LOGIN_WINDOW_MS: "600000" },
    });
    lclient = createClient(UserService, createConnectTransport({ baseUrl: lts.baseUrl, httpVersion: "1.1" }));
  });
  afterAll(async () => {
    await lts?.close();
  });
  /** A client calling from another loopback address: another client address to the server. */
  const clientFrom = (localAddress: string, httpVersion: "1.1" | "2" = "1.1") =>
    httpVersion === "2"
      ? createClient(UserService, createConnectTransport({ baseUrl: lts.baseUrl, httpVersion: "2", nodeOptions: { localAddress } as http2.ClientSessionOptions }))
      : createClient(UserService, createConnectTransport({ baseUrl: lts.baseUrl, httpVersion: "1.1", nodeOptions: { localAddress } }));
  async function newAccount() {
    const username = `thr_${randomBytes(5).toString("hex")}`;
    const email = `${username}@example.test`;
    const password = `right-password-${randomBytes(3).toString("hex")}`;
    await lclient.register({ username, email, password });
    return { username, email, password };
  }

  it("locks a client address that sprays many accounts", async () => {
    // Sixty unknown accounts at once from one address of its own: the address limit (50) checks at most 50.
    const sprayer = clientFrom("127.0.0.51");
    const results = await Promise.all(Array.from({ length: 60 }, () => attempt(`spray_${randomBytes(5).toString("hex")}`, "guess-password", sprayer)));
    expect(results.filter((r) => r?.code === Code.Unauthenticated).length).toBeLessThanOrEqual(50);
    expect(results.filter((r) => r?.code === Code.ResourceExhausted).length).toBeGreaterThanOrEqual(10);
  });

  it("never checks more than the limit, however many guesses arrive at once (row 1)", async () => {
    const { username, password } = await newAccount();
    const from = clientFrom("127.0.0.21", "2");
    // 60 parallel wrong guesses on one HTTP/2 connection: before the fix all 60 were hashed and checked.
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => attempt(username, `wrong-${i}-password`, from)));
    const checked = results.filter((r) => r?.code === Code.Unauthenticated).length;
    const refused = results.filter((r) => r?.code === Code.ResourceExhausted).length;
    expect(checked).toBeLessThanOrEqual(3);
    expect(checked + refused).toBe(60);
    // The right password, sent after them, is not checked either.
    expect((await attempt(username, password, from))?.code).toBe(Code.ResourceExhausted);
  });

  it("counts the username and the email address of one account together (row 2)", async () => {
    const { username, email, password } = await newAccount();
    const from = clientFrom("127.0.0.22");
    expect((await attempt(username, "wrong-password", from))?.code).toBe(Code.Unauthenticated);
    expect((await attempt(email, "wrong-password", from))?.code).toBe(Code.Unauthenticated);
    expect((await attempt(email.toUpperCase(), "wrong-password", from))?.code).toBe(Code.Unauthenticated);
    // Three failures whichever way the account was named: the fourth is refused, by username and by email.
    expect((await attempt(username, password, from))?.code).toBe(Code.ResourceExhausted);
    expect((await attempt(email, password, from))?.code).toBe(Code.ResourceExhausted);
  });

  it("does not let a stranger lock the owner out (row 16)", async () => {
    const { username, password } = await newAccount();
    const owner = clientFrom("127.0.0.31");
    expect(await attempt(username, password, owner)).toBeUndefined(); // the owner's address becomes known
    // Strangers guess from two addresses until each is locked out of this account (3 failures each).
    for (const addr of ["127.0.0.32", "127.0.0.33"]) {
      const stranger = clientFrom(addr);
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push((await attempt(username, "stranger-guess", stranger))?.code);
      expect(codes.filter((c) => c === Code.Unauthenticated).length).toBeLessThanOrEqual(3);
      expect(codes.at(-1)).toBe(Code.ResourceExhausted);
    }
    // Six failures in all reached the account-wide bound: a new address is refused at once …
    expect((await attempt(username, password, clientFrom("127.0.0.35")))?.code).toBe(Code.ResourceExhausted);
    // … but the owner, from the address they signed in from before, still gets in.
    expect(await attempt(username, password, owner)).toBeUndefined();
  });

  it("keeps no raw client address in Redis (row 15)", async () => {
    await attempt(`nobody_${randomBytes(4).toString("hex")}`, "some-password", clientFrom("127.0.0.41"));
    // SCAN on every master (one Redis or a cluster); the client's key prefix is not applied to a pattern.
    const all = await scanKeys(lts.redis, `${lprefix}:login:*`);
    expect(all.length).toBeGreaterThan(0);
    expect(all.some((k) => k.includes("}:ip:"))).toBe(true);
    for (const k of all) expect(k).not.toMatch(/127\.0\.0|::ffff/);
  });
});

describe("registration with a taken email (row 14)", () => {
  it("answers ALREADY_EXISTS, but each such answer spends the address's attempt budget, so enumeration is bounded", async () => {
    const ets = await startTestServer({ env: { REDIS_PREFIX: `thn${randomBytes(4).toString("hex")}`, LOGIN_MAX_FAILURES_PER_IP: "4", LOGIN_WINDOW_MS: "600000" } });
    try {
      const owner = createClient(UserService, createConnectTransport({ baseUrl: ets.baseUrl, httpVersion: "1.1" }));
      const probe = createClient(UserService, createConnectTransport({ baseUrl: ets.baseUrl, httpVersion: "1.1", nodeOptions: { localAddress: "127.0.0.61" } }));
      const taken = [];
      for (let i = 0; i < 6; i++) {
        const u = `enum_${randomBytes(4).toString("hex")}`;
        await owner.register({ username: u, email: `${u}@example.test`, password: "owner-password-1" });
        taken.push(`${u}@example.test`);
      }
      const codes = [];
      for (const email of taken) {
        const err = await probe.register({ username: `p_${randomBytes(4).toString("hex")}`, email, password: "probe-password-1" }).then(() => undefined, (e: unknown) => ConnectError.from(e));
        codes.push(err?.code);
      }
      // The documented answer while within budget …
      expect(codes.slice(0, 4)).toEqual(Array(4).fill(Code.AlreadyExists));
      // … and once the address's budget (4 here) is spent, no more answers about which emails are taken.
      expect(codes.slice(4)).toEqual([Code.ResourceExhausted, Code.ResourceExhausted]);
    } finally {
      await ets.close();
    }
  });
});
