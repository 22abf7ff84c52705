/**
 * The user module: accounts, sessions, profiles, and the authentication every other service relies on.
 * Other modules use only what is exported here.
 */
import { createHmac } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import type { Config } from "../../platform/config.ts";
import type { Logger } from "../../platform/logger.ts";
import { recordAudit } from "../audit/index.ts";
import { createAccessTokens } from "./access-tokens.ts";
import { loadAccount } from "./account-view.ts";
import { createAccountStatus } from "./account-status.ts";
import { createAccounts } from "./accounts.ts";
import { type Authenticate, checkSession, createAuthenticator } from "./authenticator.ts";
import { createDataCipher } from "./data-cipher.ts";
import { exportUserData } from "./data-export.ts";
import { createLoginRateLimiter } from "./login-rate-limiter.ts";
import { createPasswordHasher } from "./password-hasher.ts";
import { createProfiles } from "./profiles.ts";
import { createSessionCache, type SessionCache } from "./session-cache.ts";
import { SessionStore } from "./session-store.ts";
import { createUserRpc } from "./user.rpc.ts";

export { anonymizeIp } from "./ip-anonymizer.ts";
export type { Authenticate } from "./authenticator.ts";
export { createPasswordHasher, type PasswordHasher } from "./password-hasher.ts";

/** An address a login succeeded from stays exempt from the account-wide throttle this long (SECURITY.md). */
const KNOWN_ADDRESS_TTL_MS = 30 * 86_400_000;

export interface UserModuleDeps {
  config: Config;
  log: Logger;
  orm: MikroORM;
  redis: Redis;
}

// One session cache per connection pool (i.e. per process in production): the authenticator reads it and the
// accounts of the same process forget what they revoke, even when the two were built separately.
const sessionCaches = new WeakMap<MikroORM, SessionCache>();
function sessionCacheOf(deps: Pick<UserModuleDeps, "config" | "orm">): SessionCache {
  let cache = sessionCaches.get(deps.orm);
  if (!cache) {
    cache = createSessionCache({ ttlMs: deps.config.auth.sessionCacheTtlMs, load: (sid, uid) => checkSession(deps.orm, sid, uid) });
    sessionCaches.set(deps.orm, cache);
  }
  return cache;
}

/** Builds the module once per process: the UserService handlers and the authenticator for the auth interceptor. */
export function createUserModule(deps: UserModuleDeps) {
  const auth = deps.config.auth;
  const tokens = createAccessTokens({ secret: auth.jwtSecret, keyId: auth.jwtKeyId, ttlSeconds: auth.accessTokenTtlSeconds });
  const phones = createDataCipher(auth.dataKeys, "users.phone_number");
  const hasher = createPasswordHasher({ memoryKib: auth.passwordMemoryKib, iterations: auth.passwordIterations });
  const cache = sessionCacheOf(deps);
  const sessions = new SessionStore({ refreshTtlSeconds: auth.refreshTokenTtlSeconds, onRevoked: (userId, sessionId) => cache.forget(userId, sessionId) });
  const limiter = createLoginRateLimiter(deps.redis, {
    maxPerAccountAndAddress: auth.loginMaxFailuresPerAccount,
    maxPerAddress: auth.loginMaxFailuresPerIp,
    maxPerAccountTotal: auth.loginMaxFailuresPerAccountTotal,
    windowMs: auth.loginWindowMs,
    knownAddressTtlMs: KNOWN_ADDRESS_TTL_MS,
    // Its own key, derived: the JWT secret itself never keys anything else.
    addressKey: createHmac("sha256", auth.jwtSecret).update("login-throttle-address-key").digest(),
  });
  const accounts = createAccounts({ orm: deps.orm, redis: deps.redis, auth, log: deps.log, hasher, tokens, sessions, limiter, phones });
  const profiles = createProfiles({ orm: deps.orm, phones, log: deps.log });
  const exportData = async (userId: string) =>
    // The export and its audit row commit together: no export leaves without a trace of it.
    deps.orm.em.fork().transactional(async (tx) => {
      const doc = await exportUserData(tx, await loadAccount(tx, userId, phones, deps.log));
      await recordAudit(tx, { action: "user.export", table: "users", operation: "READ", recordId: userId, after: { sections: Object.keys(doc).length } });
      return doc;
    });
  const status = createAccountStatus({ orm: deps.orm, sessions });
  return { rpc: createUserRpc({ accounts, profiles, exportData, status }), accounts };
}

/** Just the authenticator (what the server's auth interceptor needs), without building the rest of the module. */
export function createUserAuthenticator(deps: Pick<UserModuleDeps, "config" | "orm">): Authenticate {
  const auth = deps.config.auth;
  const tokens = createAccessTokens({ secret: auth.jwtSecret, keyId: auth.jwtKeyId, ttlSeconds: auth.accessTokenTtlSeconds });
  return createAuthenticator({ tokens, sessions: sessionCacheOf(deps), serviceTokens: auth.serviceTokens });
}
