/**
 * Session checks are cached per process (SESSION_CACHE_TTL_MS, 1 s), so revocations must still reach every process
 * within a second: two real server processes share PostgreSQL; a session warmed on both is revoked through one, and
 * the other must refuse it within the TTL (plus scheduling slack on a busy machine), the first one at once.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { inject } from "vitest";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

let a: ServerProcess;
let b: ServerProcess;
let ca: Client<typeof UserService>;
let cb: Client<typeof UserService>;
let db: pg.Client;
beforeAll(async () => {
  [a, b] = await Promise.all([startServerProcess(), startServerProcess()]);
  ca = createClient(UserService, createGrpcTransport({ baseUrl: a.baseUrl }));
  cb = createClient(UserService, createGrpcTransport({ baseUrl: b.baseUrl }));
  db = new pg.Client({ connectionString: inject("databaseUrl") });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  expect(await Promise.all([a?.stop(), b?.stop()])).toEqual([0, 0]);
});

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const codeOf = (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => Code[ConnectError.from(e).code]);
const fresh = () => {
  const username = `rev_${randomBytes(5).toString("hex")}`;
  return { username, email: `${username}@example.test`, password: `correct-horse-${randomBytes(4).toString("hex")}` };
};
/** Calls GetMe on `client` until it is refused; the milliseconds that took (fails after 3 s). */
async function msUntilRefused(client: Client<typeof UserService>, token: string, since: number): Promise<number> {
  for (;;) {
    const code = await codeOf(client.getMe({}, bearer(token)));
    if (code === "Unauthenticated") return performance.now() - since;
    expect(code).toBe("OK");
    if (performance.now() - since > 3000) throw new Error("still accepted 3 s after the revocation");
    await new Promise((r) => setTimeout(r, 20));
  }
}
/** Warms both processes' caches with `token`: each has checked the session and trusts it now. */
async function warm(token: string) {
  for (let i = 0; i < 3; i++) {
    expect(await codeOf(ca.getMe({}, bearer(token)))).toBe("OK");
    expect(await codeOf(cb.getMe({}, bearer(token)))).toBe("OK");
  }
}
// One second of TTL, plus slack for a machine shared by several test runs.
const WITHIN_MS = 1000 + 600;

describe("session revocation across two server processes", () => {
  it("logout through A: A refuses at once, B within a second", async () => {
    const reg = await ca.register(fresh());
    await warm(reg.accessToken);
    const t = performance.now();
    await ca.logout({}, bearer(reg.accessToken));
    expect(await codeOf(ca.getMe({}, bearer(reg.accessToken)))).toBe("Unauthenticated");
    expect(await msUntilRefused(cb, reg.accessToken, t)).toBeLessThan(WITHIN_MS);
  });

  it("a password change through B ends the other session on A within a second", async () => {
    const who = fresh();
    const first = await cb.register(who);
    const other = await ca.login({ login: who.username, password: who.password });
    await warm(other.accessToken);
    const t = performance.now();
    await cb.changePassword({ currentPassword: who.password, newPassword: `${who.password}-2` }, bearer(first.accessToken));
    expect(await codeOf(cb.getMe({}, bearer(other.accessToken)))).toBe("Unauthenticated");
    expect(await msUntilRefused(ca, other.accessToken, t)).toBeLessThan(WITHIN_MS);
    expect(await codeOf(ca.getMe({}, bearer(first.accessToken)))).toBe("OK");
  });

  it("deactivation in the database reaches both processes within a second", async () => {
    const reg = await ca.register(fresh());
    await warm(reg.accessToken);
    const t = performance.now();
    await db.query("update users set is_active = false where id = $1", [reg.user!.id]);
    const [ma, mb] = await Promise.all([msUntilRefused(ca, reg.accessToken, t), msUntilRefused(cb, reg.accessToken, t)]);
    expect(Math.max(ma, mb)).toBeLessThan(WITHIN_MS);
  });

  it("refresh-token reuse through A revokes the session on B within a second", async () => {
    const reg = await ca.register(fresh());
    const next = await ca.refreshSession({ refreshToken: reg.refreshToken });
    await warm(next.accessToken);
    const t = performance.now();
    expect(await codeOf(ca.refreshSession({ refreshToken: reg.refreshToken }))).toBe("Unauthenticated"); // reuse
    expect(await codeOf(ca.getMe({}, bearer(next.accessToken)))).toBe("Unauthenticated");
    expect(await msUntilRefused(cb, next.accessToken, t)).toBeLessThan(WITHIN_MS);
  });
});
