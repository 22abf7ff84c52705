/** Login throttling in Redis: per account and per client address; kicks in, tells when to retry, and recovers. */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";

const WINDOW_MS = 1500;
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

const attempt = (login: string, password: string) => client.login({ login, password }).then(() => undefined, (e: unknown) => ConnectError.from(e));

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

  it("locks a client address that sprays many accounts", async () => {
    // Other tests of this file share the address; the IP limit (8) is reached within this loop at the latest.
    let lockedAt = -1;
    for (let i = 0; i < 10 && lockedAt < 0; i++) {
      const err = await attempt(`spray_${randomBytes(5).toString("hex")}`, "guess-password");
      if (err?.code === Code.ResourceExhausted) lockedAt = i;
      else expect(err?.code).toBe(Code.Unauthenticated);
    }
    expect(lockedAt).toBeGreaterThanOrEqual(0);
    await new Promise((r) => setTimeout(r, WINDOW_MS + 200));
    expect((await attempt(`spray_${randomBytes(5).toString("hex")}`, "guess-password"))?.code).toBe(Code.Unauthenticated);
  });
});
