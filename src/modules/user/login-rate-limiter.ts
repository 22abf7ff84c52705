/**
 * Login throttling in Redis: failed attempts are counted per account (the normalised login) and per client
 * address in fixed windows. Once either count reaches its limit, further attempts are refused with
 * RESOURCE_EXHAUSTED and the time left in the window — before any password is hashed, so a guessing run costs the
 * server nothing. A successful login clears the account's count (not the address's: one good password must not
 * reset a spray across many accounts).
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { RateLimitedError } from "../../platform/errors.ts";

export interface LoginRateLimiterOptions {
  maxPerAccount: number;
  maxPerIp: number;
  windowMs: number;
}

export interface LoginRateLimiter {
  /** Throws RateLimitedError when the account or the address is locked out. */
  check(login: string, ip: string | undefined): Promise<void>;
  recordFailure(login: string, ip: string | undefined): Promise<void>;
  recordSuccess(login: string): Promise<void>;
}

// Keys hold a hash of the login, so Redis never stores usernames or email addresses in clear.
const accountKey = (login: string) => `login-fail:acct:${createHash("sha256").update(login.toLowerCase()).digest("hex").slice(0, 32)}`;
const ipKey = (ip: string) => `login-fail:ip:${ip}`;

export function createLoginRateLimiter(redis: Redis, opts: LoginRateLimiterOptions): LoginRateLimiter {
  return {
    async check(login, ip) {
      const keys = [accountKey(login), ...(ip ? [ipKey(ip)] : [])];
      const pipeline = redis.multi();
      for (const k of keys) pipeline.get(k).pttl(k);
      const res = (await pipeline.exec()) ?? [];
      const limits = [opts.maxPerAccount, opts.maxPerIp];
      for (let i = 0; i < keys.length; i++) {
        const count = Number(res[i * 2]?.[1] ?? 0);
        const ttl = Number(res[i * 2 + 1]?.[1] ?? -1);
        if (count >= limits[i]!) {
          throw new RateLimitedError("too many failed sign-in attempts; try again later", ttl > 0 ? ttl : opts.windowMs);
        }
      }
    },
    async recordFailure(login, ip) {
      const pipeline = redis.multi();
      for (const k of [accountKey(login), ...(ip ? [ipKey(ip)] : [])]) {
        // The window starts at the first failure (SET NX PX); INCR keeps the expiry, so later failures do not extend it.
        pipeline.set(k, "0", "PX", opts.windowMs, "NX").incr(k);
      }
      await pipeline.exec();
    },
    async recordSuccess(login) {
      await redis.del(accountKey(login));
    },
  };
}
