/**
 * A Redis client of a test's own on this run's Redis: one server or a cluster, whatever REDIS_URL named
 * (`npm run test:redis-cluster`). Returned once connected: without an offline queue a command sent earlier fails at
 * once, and a cluster client is ready only after it has discovered the slots.
 */
import { inject } from "vitest";
import type { Redis } from "ioredis";
import { createRedis, pingRedis } from "../../src/platform/redis.ts";

export async function openTestRedis(keyPrefix: string): Promise<Redis> {
  const redis = createRedis(inject("redisUrl"), { keyPrefix });
  if (!(await pingRedis(redis, 30_000))) {
    redis.disconnect();
    throw new Error("this run's Redis did not answer within 30 s");
  }
  return redis;
}
