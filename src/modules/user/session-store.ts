/**
 * Login sessions and their refresh tokens (tables user_sessions / user_refresh_tokens).
 * A refresh token is 32 random bytes (base64url), stored only as its SHA-256. Each use rotates it: the old row is
 * marked used and a new token of the same session is issued. Presenting a used token again means two parties hold
 * it (one of them stole it), so the whole session is revoked and both lose access.
 */
import { createHash, randomBytes } from "node:crypto";
import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { UnauthenticatedError } from "../../platform/errors.ts";
import { recordAudit } from "../audit/index.ts";
import { User, UserRefreshToken, UserSession, type SessionRevokeReason } from "./entities/index.ts";

export interface IssuedRefresh {
  sessionId: string;
  refreshToken: string;
  expiresAt: Date;
}

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");
const newToken = () => randomBytes(32).toString("base64url");
const INVALID = "refresh token is invalid or expired";

export class SessionStore {
  readonly #ttlMs: number;
  readonly #onRevoked: (userId: string, sessionId?: string) => void;
  /** `onRevoked` hears of every revocation made here (after it is written), so this process's session cache forgets at once. */
  constructor(opts: { refreshTtlSeconds: number; onRevoked?: (userId: string, sessionId?: string) => void }) {
    this.#ttlMs = opts.refreshTtlSeconds * 1000;
    this.#onRevoked = opts.onRevoked ?? (() => {});
  }

  /** Tells this process's session cache that `userId`'s sessions (or one) were revoked by a write that has committed. */
  revoked(userId: string, sessionId?: string): void {
    this.#onRevoked(userId, sessionId);
  }

  /** Opens a session for `userId` (inside the caller's transaction) and returns its first refresh token. */
  async open(em: EntityManager, userId: string, userAgent: string): Promise<IssuedRefresh> {
    const expiresAt = new Date(Date.now() + this.#ttlMs);
    const session = em.create(UserSession, { user: em.getReference(User, userId), userAgent: userAgent.slice(0, 300), expiresAt });
    const refreshToken = newToken();
    em.create(UserRefreshToken, { session, tokenHash: hashToken(refreshToken) });
    await em.flush();
    return { sessionId: session.id, refreshToken, expiresAt };
  }

  /**
   * Exchanges a refresh token for a new one. Unknown, expired or revoked: UNAUTHENTICATED. Already used: the
   * session is revoked (reuse detection), then UNAUTHENTICATED. Returns the session's user for the new access token.
   */
  async rotate(em: EntityManager, refreshToken: string): Promise<IssuedRefresh & { user: User }> {
    let reused: { userId: string; sessionId: string } | undefined;
    const result = await em.transactional(async (tx): Promise<{ ok: false } | ({ ok: true; user: User } & IssuedRefresh)> => {
      // Row lock: two concurrent refreshes with the same token cannot both succeed.
      const row = await tx.findOne(UserRefreshToken, { tokenHash: hashToken(refreshToken) }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!row) return { ok: false };
      const session = await tx.findOneOrFail(UserSession, row.session.id, { populate: ["user"] });
      const user = session.user.getEntity();
      const now = new Date();
      if (session.revokedAt || session.expiresAt <= now || !user.isActive) return { ok: false };
      if (row.usedAt) {
        // Committed with the transaction, before the caller sees the error: the revocation sticks.
        session.revokedAt = now;
        session.revokedReason = "token_reuse" satisfies SessionRevokeReason;
        await recordAudit(tx, {
          action: "session.token_reuse",
          table: "user_sessions",
          operation: "UPDATE",
          recordId: session.id,
          after: { user_id: user.id, revoked_reason: "token_reuse" },
        });
        reused = { userId: user.id, sessionId: session.id };
        return { ok: false };
      }
      row.usedAt = now;
      session.lastUsedAt = now;
      const next = newToken();
      tx.create(UserRefreshToken, { session, tokenHash: hashToken(next) });
      return { ok: true, sessionId: session.id, refreshToken: next, expiresAt: session.expiresAt, user };
    });
    if (reused) this.#onRevoked(reused.userId, reused.sessionId);
    if (!result.ok) throw new UnauthenticatedError(INVALID);
    return result;
  }

  /** Revokes the session `refreshToken` belongs to, if it is `userId`'s; false when there was no such session. */
  async revokeByToken(em: EntityManager, userId: string, refreshToken: string, reason: SessionRevokeReason): Promise<boolean> {
    const row = await em.findOne(UserRefreshToken, { tokenHash: hashToken(refreshToken), session: { user: userId } }, { populate: ["session"] });
    if (!row) return false;
    return (await this.revoke(em, userId, { sessionId: row.session.id }, reason)) > 0;
  }

  /** Revokes one session, all of a user's, or all but one; returns how many were open. */
  async revoke(
    em: EntityManager,
    userId: string,
    which: { sessionId: string } | { allExcept?: string },
    reason: SessionRevokeReason,
  ): Promise<number> {
    const where: Record<string, unknown> = { user: userId, revokedAt: null };
    if ("sessionId" in which) where.id = which.sessionId;
    else if (which.allExcept) where.id = { $ne: which.allExcept };
    const n = await em.nativeUpdate(UserSession, where, { revokedAt: new Date(), revokedReason: reason });
    // Inside a transaction this runs before the commit: forgetting early is harmless (the next check just queries).
    if (n > 0) this.#onRevoked(userId, "sessionId" in which ? which.sessionId : undefined);
    return n;
  }
}
