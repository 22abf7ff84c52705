/**
 * Turns a bearer credential into a Caller. Two kinds:
 * - a service token from configuration (compared by SHA-256, so the comparison takes the same time whatever matches);
 * - a user access token (JWT), accepted only while its session is open and its account active. That check is one
 *   primary-key join, cached per process for `sessionCacheTtlMs` (session-cache.ts): logout, password change,
 *   token-reuse revocation and deactivation reach every process within that time, and the process that revoked a
 *   session itself at once. The staff flag comes from the database too, so taking it away needs no token expiry.
 * A token whose signature was checked once is remembered until it expires (HS256 verification costs ~0.1 ms, a
 * noticeable share of a cached call); only verified tokens are remembered, keyed by the whole token string.
 */
import { createHash } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Caller } from "../../platform/caller.ts";
import type { AccessClaims, AccessTokens } from "./access-tokens.ts";
import type { SessionCache } from "./session-cache.ts";

/** Resolves the caller of a bearer credential, or undefined when it is not valid (any reason). */
export type Authenticate = (bearer: string) => Promise<Caller | undefined>;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
/** Verified tokens remembered at most (a few MB). */
const MAX_VERIFIED = 20_000;

/** The one query behind a session check: open, unexpired session of an active account; its staff flag. */
export async function checkSession(orm: MikroORM, sessionId: string, userId: string): Promise<{ isStaff: boolean } | undefined> {
  const rows = await orm.em.fork().execute<{ is_staff: boolean }[]>(
    `select u.is_staff from user_sessions s join users u on u.id = s.user_id
      where s.id = ? and s.user_id = ? and s.revoked_at is null and s.expires_at > now() and u.is_active`,
    [sessionId, userId],
  );
  return rows.length === 0 ? undefined : { isStaff: rows[0]!.is_staff };
}

export function createAuthenticator(deps: {
  tokens: AccessTokens;
  sessions: SessionCache;
  serviceTokens: readonly { name: string; scopes: readonly string[]; token: string }[];
  /** Wall clock (ms) for token expiry. */
  now?: () => number;
}): Authenticate {
  const now = deps.now ?? Date.now;
  const services = new Map<string, Caller>(
    deps.serviceTokens.map((s) => [sha256(s.token), Object.freeze({ kind: "service" as const, name: s.name, scopes: Object.freeze([...s.scopes]) })]),
  );
  const verified = new Map<string, AccessClaims & { expiresAtMs: number }>();
  const claimsOf = async (bearer: string) => {
    const known = verified.get(bearer);
    if (known) {
      if (known.expiresAtMs > now()) return known;
      verified.delete(bearer);
      return undefined;
    }
    const claims = await deps.tokens.verify(bearer);
    if (claims) {
      verified.set(bearer, claims);
      if (verified.size > MAX_VERIFIED) verified.delete(verified.keys().next().value!);
    }
    return claims;
  };
  return async (bearer) => {
    if (services.size > 0) {
      const service = services.get(sha256(bearer));
      if (service) return service;
    }
    const claims = await claimsOf(bearer);
    if (!claims) return undefined;
    const session = await deps.sessions.get(claims.sessionId, claims.userId);
    if (!session) return undefined;
    return { kind: "user", userId: claims.userId, isStaff: session.isStaff, sessionId: claims.sessionId };
  };
}
