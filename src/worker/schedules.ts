/**
 * Keeps the worker's repeatable-job schedulers (notification sweep and digest tick, daily alerts, the rescoring
 * sweep, nightly training, the analytics jobs) registered. They live in Redis only: a Redis restarted empty or
 * flushed loses them, and before this nothing put them back until the worker restarted. After every successful
 * registration a marker key is written next to them; the keeper re-registers whenever the marker is gone,
 * checked at once when the Redis connection comes back and every `checkMs` (a FLUSHALL needs no reconnect).
 * Registration upserts fixed scheduler ids, so running it again (or on every worker) leaves one of each.
 */
import type { Redis } from "ioredis";
import { dependencyFailure } from "../platform/errors.ts";
import type { Logger } from "../platform/logger.ts";

/** Marker key (under the app client's key prefix): present while the schedulers registered with it exist. */
export const SCHEDULES_MARKER = "worker:schedules";

export interface ScheduleKeeper {
  /** Resolves after the first successful registration. */
  readonly ready: Promise<void>;
  /** How many times the schedulers were registered again after the first time. */
  readonly reRegistrations: number;
  close(): void;
}

export function keepSchedules(opts: { redis: Redis; register: () => Promise<void>; log: Logger; checkMs: number }): ScheduleKeeper {
  let closed = false;
  let running: Promise<void> | undefined;
  let registeredOnce = false;
  let reRegistrations = 0;
  let lastProblem = "";
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));

  async function reconcile(): Promise<void> {
    if (closed) return;
    if (registeredOnce && (await opts.redis.exists(SCHEDULES_MARKER)) === 1) return;
    await opts.register();
    await opts.redis.set(SCHEDULES_MARKER, new Date().toISOString());
    if (registeredOnce) {
      reRegistrations++;
      opts.log.warn("repeatable-job schedulers were missing from Redis (restarted empty or flushed): registered again");
    }
    registeredOnce = true;
    lastProblem = "";
    resolveReady();
  }

  /** One reconciliation at a time; failures (Redis still down) are logged once per distinct problem and retried. */
  function check(): void {
    if (closed || running) return;
    running = reconcile()
      .catch((e: unknown) => {
        const problem = (e as Error).message ?? String(e);
        // Redis down is logged once by the DependencyLog (and this retries at "ready"); other problems here.
        if (dependencyFailure(e)) opts.log.debug({ err: problem }, "job schedulers not checked: Redis unavailable; retrying");
        else if (problem !== lastProblem) opts.log.warn({ err: problem }, "could not check or register the job schedulers; retrying");
        lastProblem = problem;
      })
      .finally(() => (running = undefined));
  }

  const onReady = () => check();
  opts.redis.on("ready", onReady);
  const timer = setInterval(check, opts.checkMs);
  timer.unref();
  check();
  return {
    ready,
    get reRegistrations() {
      return reRegistrations;
    },
    close() {
      closed = true;
      clearInterval(timer);
      opts.redis.off("ready", onReady);
    },
  };
}
