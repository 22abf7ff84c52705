/** Redis keys of served recommendation lists; rescoring, interactions and feedback invalidate them. */
import type { Redis } from "ioredis";
import { hashTag } from "../../platform/redis.ts";
import { withTimeout } from "../../platform/timeout.ts";

/**
 * Deadline of each Redis call on the serving path. Redis is a cache here: a hung Redis (connections open, nothing
 * answered) must cost a read at most this, then PostgreSQL answers (tests/recommendation/redis-fallback.test.ts).
 */
export const SERVING_REDIS_MS = 150;

/** `call`'s result, or `fallback` when Redis fails or has not answered within SERVING_REDIS_MS. */
export function bounded<T>(call: Promise<T>, fallback: T): Promise<T> {
  return withTimeout(
    call.catch(() => fallback),
    SERVING_REDIS_MS,
    fallback,
  );
}

/** A user's cached list of one algorithm; a user's lists share a hash tag because `invalidateUser` deletes them in one DEL. */
export const listKey = (userId: string, algorithm: string) => `rec:list:${hashTag(`u${userId}`)}:${algorithm}`;
export const CACHED_ALGORITHMS = ["collaborative", "content_based", "trending", "hybrid"] as const;

/** Drops a user's cached lists (best effort: a Redis outage only costs a PostgreSQL read later). */
export async function invalidateUser(redis: Redis, userId: string): Promise<void> {
  await bounded(redis.del(...CACHED_ALGORITHMS.map((a) => listKey(userId, a))).then(() => undefined), undefined);
}
