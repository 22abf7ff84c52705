/**
 * Turns a bearer credential into a Caller. Two kinds:
 * - a service token from configuration (compared by SHA-256, so the comparison takes the same time whatever matches);
 * - a user access token (JWT), accepted only while its session is open and its account active: one primary-key join
 *   per call, so logout, password change, token-reuse revocation and deactivation take effect at once. The staff flag
 *   comes from the database too, so taking it away needs no token expiry.
 */
import { createHash } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Caller } from "../../platform/caller.ts";
import type { AccessTokens } from "./access-tokens.ts";

/** Resolves the caller of a bearer credential, or undefined when it is not valid (any reason). */
export type Authenticate = (bearer: string) => Promise<Caller | undefined>;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export function createAuthenticator(deps: {
  orm: MikroORM;
  tokens: AccessTokens;
  serviceTokens: readonly { name: string; scopes: readonly string[]; token: string }[];
}): Authenticate {
  const services = new Map<string, Caller>(
    deps.serviceTokens.map((s) => [sha256(s.token), Object.freeze({ kind: "service" as const, name: s.name, scopes: Object.freeze([...s.scopes]) })]),
  );
  return async (bearer) => {
    const service = services.get(sha256(bearer));
    if (service) return service;
    const claims = await deps.tokens.verify(bearer);
    if (!claims) return undefined;
    const rows = await deps.orm.em.fork().execute<{ is_staff: boolean }[]>(
      `select u.is_staff from user_sessions s join users u on u.id = s.user_id
        where s.id = ? and s.user_id = ? and s.revoked_at is null and s.expires_at > now() and u.is_active`,
      [claims.sessionId, claims.userId],
    );
    if (rows.length === 0) return undefined;
    return { kind: "user", userId: claims.userId, isStaff: rows[0]!.is_staff, sessionId: claims.sessionId };
  };
}
