/**
 * Processors of the `delivery` queue:
 * - `send` (payload `{ logId }`): one notification through the state machine of delivery.ts;
 * - `sweep` (repeating): re-enqueues notifications whose job was lost or whose worker died;
 * - `digest-tick` (repeating): queues the weekly digests that fell due since the last tick (digests.ts);
 * - `daily-alerts` (cron, UTC): new-release and trending alerts (alert-triggers.ts).
 */
import type { Job, Queue } from "bullmq";
import type { Logger } from "../../platform/logger.ts";
import type { Delivery } from "./delivery.ts";
import { SEND_JOB } from "./outbox.ts";

type Processor = (job: Job, log: Logger) => Promise<unknown>;

export const SWEEP_JOB = "sweep";
export const DIGEST_TICK_JOB = "digest-tick";
export const DAILY_ALERTS_JOB = "daily-alerts";
export const DAILY_ALERTS_SCHEDULER_ID = "notification-daily-alerts";

/** BullMQ's exponential backoff for the attempt that just failed (jitter only shortens it). */
function backoffMs(job: Job): number {
  const b = job.opts.backoff;
  const delay = typeof b === "object" ? (b.delay ?? 1000) : (b ?? 1000);
  return delay * 2 ** job.attemptsMade;
}

export function createNotificationProcessors(deps: {
  delivery: Delivery;
  digestTick?: (now: Date) => Promise<unknown>;
  dailyAlerts?: (now: Date) => Promise<unknown>;
}): Record<string, Processor> {
  const processors: Record<string, Processor> = {
    [SEND_JOB]: async (job) => {
      const logId = String((job.data as { logId?: unknown }).logId ?? "");
      if (!/^[0-9]+$/.test(logId)) return "bad-payload";
      const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      return deps.delivery.deliver(logId, { finalAttempt, retryDelayMs: backoffMs(job) });
    },
    [SWEEP_JOB]: async () => deps.delivery.sweep(),
  };
  const tick = deps.digestTick;
  if (tick) processors[DIGEST_TICK_JOB] = async () => tick(new Date());
  const daily = deps.dailyAlerts;
  if (daily) processors[DAILY_ALERTS_JOB] = async () => daily(new Date());
  return processors;
}

/** Registers the repeating jobs (idempotent: upserting a scheduler replaces it, so every worker may call this). */
export async function scheduleNotificationJobs(queue: Queue, opts: { sweepIntervalMs: number; digestTickMs: number; alertsCron: string }): Promise<void> {
  await queue.upsertJobScheduler("notification-sweep", { every: opts.sweepIntervalMs }, { name: SWEEP_JOB, opts: { attempts: 1 } });
  await queue.upsertJobScheduler("notification-digest-tick", { every: opts.digestTickMs }, { name: DIGEST_TICK_JOB, opts: { attempts: 1 } });
  // A retried daily run is harmless (idempotency keys per user and movie), so it keeps the queue's retries.
  if (opts.alertsCron) await queue.upsertJobScheduler(DAILY_ALERTS_SCHEDULER_ID, { pattern: opts.alertsCron, tz: "UTC" }, { name: DAILY_ALERTS_JOB });
  else await queue.removeJobScheduler(DAILY_ALERTS_SCHEDULER_ID);
}
