/**
 * Test accounts made through the real user module (so they work with servers whose impls are replaced) and the
 * headers that authenticate as them.
 */
import { randomBytes } from "node:crypto";
import type { AppDeps } from "../../src/server/app-deps.ts";
import { createUserModule } from "../../src/modules/user/index.ts";

export interface TestUser {
  userId: string;
  username: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  /** `{ authorization: "Bearer …" }` for Connect `headers` call options. */
  headers: Record<string, string>;
}

/** A fresh, unique account (optionally staff) with an open session. */
export async function createTestUser(deps: AppDeps, opts: { staff?: boolean; prefix?: string } = {}): Promise<TestUser> {
  const suffix = randomBytes(5).toString("hex");
  const username = `${opts.prefix ?? "t"}_${suffix}`;
  const email = `${username}@example.test`;
  const password = `pw-${randomBytes(8).toString("hex")}`;
  const module = createUserModule(deps);
  const reg = await module.accounts.register(
    { username, email, password, firstName: "", lastName: "", dateOfBirth: "", phoneNumber: "", requestId: "" },
    { ip: "127.0.0.1", userAgent: "test" },
  );
  if (opts.staff) await deps.orm.em.fork().execute("update users set is_staff = true where id = ?", [reg.account.user.id]);
  return {
    userId: reg.account.user.id,
    username,
    email,
    password,
    accessToken: reg.tokens.accessToken,
    refreshToken: reg.tokens.refreshToken,
    headers: { authorization: `Bearer ${reg.tokens.accessToken}` },
  };
}
