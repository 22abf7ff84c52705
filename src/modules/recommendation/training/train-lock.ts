/**
 * One training at a time across every worker: a Redis lock held by the running job's id, renewed while it runs and
 * released by compare-and-delete. BullMQ's own job lock only guards one job id; this also keeps two different training
 * jobs (a StartTraining and the nightly one) from fitting at once, and a stalled copy of a job from running beside it.
 */
import type { Redis } from "ioredis";

const KEY = "rec:training:lock";
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;
const RENEW = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;

export type TrainLock = { acquired: true; release(): Promise<void> } | { acquired: false; holder: string };

/** Takes the lock for `owner` (renewed every third of `ttlMs` until released), or says who holds it. */
export async function acquireTrainLock(redis: Redis, owner: string, ttlMs: number): Promise<TrainLock> {
  const ok = await redis.set(KEY, owner, "PX", ttlMs, "NX");
  if (ok !== "OK") return { acquired: false, holder: (await redis.get(KEY)) ?? "" };
  const timer = setInterval(() => void redis.eval(RENEW, 1, KEY, owner, String(ttlMs)).catch(() => undefined), Math.max(10, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    acquired: true,
    async release() {
      clearInterval(timer);
      await redis.eval(RELEASE, 1, KEY, owner);
    },
  };
}
