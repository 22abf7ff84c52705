/** Redis keys of served recommendation lists; rescoring, interactions and feedback invalidate them. */
import type { Redis } from "ioredis";

export const listKey = (userId: string, algorithm: string) => `rec:list:${userId}:${algorithm}`;
export const CACHED_ALGORITHMS = ["collaborative", "content_based", "trending", "hybrid"] as const;

/** Drops a user's cached lists (best effort: a Redis outage only costs a PostgreSQL read later). */
export async function invalidateUser(redis: Redis, userId: string): Promise<void> {
  await redis.del(...CACHED_ALGORITHMS.map((a) => listKey(userId, a))).catch(() => undefined);
}
