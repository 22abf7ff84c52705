/**
 * In-process cache of session checks, so signed-in calls do not each pay a PostgreSQL round trip.
 *
 * Why a plain TTL and no invalidation messages: revocation happens in many places (logout, password change,
 * refresh-token reuse, deactivation, account deletion — some of them possibly by hand in SQL), and every one of them
 * must reach every server process within `ttlMs`. An entry is trusted only for `ttlMs` after the moment its query was
 * *sent*, so whatever committed before that query is seen, and whatever commits after it is seen at most `ttlMs`
 * later. No message can be lost because none is sent. With the default 1 s, a process serving one user 2,000
 * times a second asks PostgreSQL once a second.
 *
 * Concurrent misses of one session share one query (single flight), so a burst after expiry costs one round trip.
 * Negative answers (revoked, expired, inactive) are cached the same way: a revoked token hammering the API costs one
 * query per `ttlMs`, and reactivating an account takes effect within `ttlMs` too.
 */
import { runDetached } from "../../platform/request-signal.ts";

/** What a session check yields: the account's staff flag when the session is open and the account active. */
export type SessionCheck = { isStaff: boolean } | undefined;

interface Entry {
  userId: string;
  /** When the query behind `value` was sent (ms, monotonic clock). */
  checkedAt: number;
  value: SessionCheck;
}

export interface SessionCache {
  /** The check of (sessionId, userId): from the cache when fresh enough, else from `load` (one query per key at a time). */
  get(sessionId: string, userId: string): Promise<SessionCheck>;
  /**
   * Drops what this process knows about a user's sessions (all of them, or one), after it revoked them itself: the
   * process that logs a session out refuses it at once; the others within `ttlMs`.
   */
  forget(userId: string, sessionId?: string): void;
  /** Entries held (for tests and metrics). */
  readonly size: number;
}

export function createSessionCache(opts: {
  /** How long a check is trusted; 0 disables caching (every call queries). */
  ttlMs: number;
  /** Entries kept at most; the oldest are dropped first. */
  maxEntries?: number;
  load: (sessionId: string, userId: string) => Promise<SessionCheck>;
  /** Monotonic milliseconds (tests pass a fake clock). */
  now?: () => number;
}): SessionCache {
  const now = opts.now ?? (() => performance.now());
  const max = opts.maxEntries ?? 100_000;
  const entries = new Map<string, Entry>();
  let inFlight = new Map<string, Promise<SessionCheck>>();
  // Bumped by forget(): a query sent before a local revocation must not store its (possibly stale) answer.
  let epoch = 0;

  const refresh = (sessionId: string, userId: string): Promise<SessionCheck> => {
    const key = `${sessionId}:${userId}`;
    const pending = inFlight.get(key);
    if (pending) return pending;
    const sentAt = now();
    const sentEpoch = epoch;
    const flights = inFlight;
    // Shared by every caller that joins it: run outside the first caller's deadline (request-signal.ts).
    const p = runDetached(() => opts.load(sessionId, userId)).then(
      (value) => {
        flights.delete(key);
        if (opts.ttlMs > 0 && sentEpoch === epoch) {
          // Re-inserting moves the key to the end, so Map order is oldest-checked first.
          entries.delete(sessionId);
          entries.set(sessionId, { userId, checkedAt: sentAt, value });
          if (entries.size > max) entries.delete(entries.keys().next().value!);
        }
        return value;
      },
      (e: unknown) => {
        flights.delete(key);
        throw e;
      },
    );
    inFlight.set(key, p);
    return p;
  };

  return {
    get(sessionId, userId) {
      const e = entries.get(sessionId);
      if (e && e.userId === userId && now() - e.checkedAt < opts.ttlMs) return Promise.resolve(e.value);
      return refresh(sessionId, userId);
    },
    forget(userId, sessionId) {
      epoch++;
      // Later callers must not join a query that was sent before the revocation.
      inFlight = new Map();
      if (sessionId !== undefined) {
        entries.delete(sessionId);
        return;
      }
      for (const [sid, e] of entries) if (e.userId === userId) entries.delete(sid);
    },
    get size() {
      return entries.size;
    },
  };
}
