/**
 * Login throttling in Redis (issue 11 rows 1, 2, 15, 16; the policy is in SECURITY.md).
 *
 * - An attempt is RESERVED with an atomic increment before any password is hashed, so N parallel guesses can never
 *   check more than the limit: the count holds failed attempts plus those still running. A success gives its
 *   reservation back.
 * - The unit is the ACCOUNT (its user id), whatever login string named it (username or email), and the client address.
 * - A stranger cannot lock the owner out: the tight limit is per (account, address) — guessing from one address
 *   locks only that address out of that account. The account-wide limit is much higher (a botnet's bound), and even
 *   then addresses the owner signed in from recently ("known addresses") still get their own per-pair tries.
 * - Addresses are stored only as a keyed hash (HMAC-SHA-256 under a key derived from the JWT secret), IPv6 by its /64
 *   (one host's usual allocation, so rotating through it gains nothing).
 * Windows are fixed: a key expires `windowMs` after its first attempt.
 */
import { createHash, createHmac } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import type { Redis } from "ioredis";
import { RateLimitedError } from "../../platform/errors.ts";
import { hashTag } from "../../platform/redis.ts";

export interface LoginRateLimiterOptions {
  /** Failed (or running) attempts per account from one client address. */
  maxPerAccountAndAddress: number;
  /** Failed (or running) attempts per client address, all accounts together (credential spraying). */
  maxPerAddress: number;
  /** Failed (or running) attempts per account, all addresses together; known addresses are exempt. */
  maxPerAccountTotal: number;
  windowMs: number;
  /** How long an address a login succeeded from stays "known" for its account. */
  knownAddressTtlMs: number;
  /** Secret that keys the address hash, so the stored hashes cannot be reversed by trying all 2^32 IPv4 addresses. */
  addressKey: Buffer;
}

/** Who is being signed in to: a user id, or (no such account) the login string, so unknown names cost the same. */
export type AccountRef = { userId: string } | { unknownLogin: string };

/** A reserved attempt: report how it ended. */
export interface Attempt {
  /** The password was right: the reservation is returned and the address becomes known for the account. */
  succeeded(): Promise<void>;
  /** Nothing to do: the reservation stays as the failure count. Here so call sites read symmetrically. */
  failed(): void;
}

export interface LoginRateLimiter {
  /** Reserves one attempt; throws RateLimitedError (with the time left) when a limit is reached. */
  reserve(account: AccountRef, ip: string | undefined): Promise<Attempt>;
}

// KEYS: pair, address, account, known. ARGV: max pair, max address, max account, window ms, "1" when the address is
// known at all (without one, e.g. in-process calls, the address key is not used). Checks every limit first and
// increments only when all pass, so a refused attempt counts nothing.
const RESERVE = `
local function count(k) return tonumber(redis.call('GET', k) or '0') end
local hasAddr = ARGV[5] == '1'
local blocked = nil
if count(KEYS[1]) >= tonumber(ARGV[1]) then blocked = KEYS[1]
elseif hasAddr and count(KEYS[2]) >= tonumber(ARGV[2]) then blocked = KEYS[2]
elseif count(KEYS[3]) >= tonumber(ARGV[3]) and redis.call('EXISTS', KEYS[4]) == 0 then blocked = KEYS[3] end
if blocked then return {0, redis.call('PTTL', blocked)} end
for i = 1, 3 do
  if (i ~= 2 or hasAddr) and redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
end
return {1, 0}
`;

// KEYS: pair, address, account, known. ARGV: known ttl ms. The pair's failures are forgiven (the owner got it right
// from there); address and account counts only lose this attempt's reservation, if their window still runs.
const SUCCEED = `
redis.call('DEL', KEYS[1])
for i = 2, 3 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
redis.call('SET', KEYS[4], '1', 'PX', ARGV[1])
return 1
`;

/**
 * The four counters one attempt checks and moves in one Lua call: they share a hash tag, so every login counter of
 * the deployment lives in one cluster slot. It cannot be finer: the address counter is shared by every account tried
 * from that address, and the check across the account's and the address's counters must be atomic (row 1).
 */
export function loginKeys(account: string, address: string): [pair: string, address: string, account: string, known: string] {
  const t = hashTag("login");
  return [`login:${t}:pair:${account}:${address}`, `login:${t}:ip:${address}`, `login:${t}:acct:${account}`, `login:${t}:known:${account}:${address}`];
}

/** The address as throttled: IPv4-mapped IPv6 as IPv4, other IPv6 by its /64; anything else as given. */
export function throttledAddress(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip)) return ip;
  const bare = ip.split("%")[0]!;
  if (!isIPv6(bare)) return ip;
  const [head = "", tail] = bare.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? h : [...h, ...new Array<string>(Math.max(0, 8 - h.length - t.length)).fill("0"), ...t];
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(":")}::/64`;
}

export function createLoginRateLimiter(redis: Redis, opts: LoginRateLimiterOptions): LoginRateLimiter {
  const addressHash = (ip: string) => createHmac("sha256", opts.addressKey).update(throttledAddress(ip)).digest("hex").slice(0, 24);
  const accountId = (a: AccountRef) =>
    "userId" in a ? `u${a.userId}` : `n${createHash("sha256").update(a.unknownLogin.trim().toLowerCase()).digest("hex").slice(0, 32)}`;
  return {
    async reserve(account, ip) {
      const acct = accountId(account);
      const addr = ip ? addressHash(ip) : "none";
      const keys = loginKeys(acct, addr);
      const [ok, ttl] = (await redis.eval(RESERVE, 4, ...keys, opts.maxPerAccountAndAddress, opts.maxPerAddress, opts.maxPerAccountTotal, opts.windowMs, ip ? "1" : "0")) as [number, number];
      if (ok !== 1) throw new RateLimitedError("too many failed sign-in attempts; try again later", ttl > 0 ? ttl : opts.windowMs);
      return {
        async succeeded() {
          await redis.eval(SUCCEED, 4, ...keys, opts.knownAddressTtlMs);
        },
        failed() {},
      };
    },
  };
}
