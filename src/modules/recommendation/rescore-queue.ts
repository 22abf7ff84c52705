/**
 * Producers of the `scoring` queue. Job ids are deterministic (no ':', never all digits) so duplicates collapse:
 * a user's rescoring waits `debounceMs` as a delayed job `rescore-<userId>`, and a burst of interactions while it
 * waits adds nothing. Call these after the transaction that wrote the interaction has committed.
 */
import type { Queue } from "bullmq";

export const JOBS = { train: "train", scoreAll: "score-all", scoreRange: "score-range", rescoreUser: "rescore-user", rescoreSweep: "rescore-sweep" } as const;

export interface RescorePayload {
  userId: string;
}

/** A training run: `evaluate` also runs the offline evaluation on a temporal split of the same data. */
export interface TrainPayload {
  evaluate?: boolean;
}

/** The nightly training's job scheduler: a fixed id, so every worker upserting it at start-up leaves one schedule. */
export const TRAIN_SCHEDULER_ID = "recommendation-nightly-train";

/** The rescoring outbox's sweep (rescore-requests.ts): a fixed id, like the training's. */
export const RESCORE_SWEEP_SCHEDULER_ID = "recommendation-rescore-sweep";

/**
 * Registers (or replaces) the scheduled training, or removes it when `cron` is empty, and the repeating sweep of
 * the rescoring outbox (every `sweepMs`).
 */
export async function scheduleTraining(queue: Queue, cron: string, sweepMs?: number): Promise<void> {
  if (sweepMs !== undefined) await queue.upsertJobScheduler(RESCORE_SWEEP_SCHEDULER_ID, { every: sweepMs }, { name: JOBS.rescoreSweep, opts: { attempts: 1 } });
  if (cron === "") {
    await queue.removeJobScheduler(TRAIN_SCHEDULER_ID);
    return;
  }
  await queue.upsertJobScheduler(TRAIN_SCHEDULER_ID, { pattern: cron, tz: "UTC" }, { name: JOBS.train, data: { evaluate: true } satisfies TrainPayload });
}

/** Debounced rescoring of one user; false when one is already waiting. */
export async function enqueueRescore(queue: Queue, userId: string, debounceMs: number): Promise<boolean> {
  const jobId = `rescore-${userId}`;
  const existing = await queue.getJob(jobId);
  if (existing) {
    const state = await existing.getState();
    if (state === "delayed" || state === "waiting" || state === "prioritized") return false;
    if (state === "active") {
      // The running job may already have read the history; queue one follow-up (itself deduplicated).
      const again = await queue.add(JOBS.rescoreUser, { userId } satisfies RescorePayload, { jobId: `${jobId}-again`, delay: debounceMs, removeOnComplete: true, removeOnFail: true });
      return again.id !== undefined;
    }
    await existing.remove().catch(() => undefined);
  }
  await queue.add(JOBS.rescoreUser, { userId } satisfies RescorePayload, { jobId, delay: debounceMs, removeOnComplete: true, removeOnFail: true });
  return true;
}

/** A training run (then batch scoring); `key` makes retries of one request collapse into one job. */
export async function enqueueTraining(queue: Queue, key: string, evaluate: boolean): Promise<{ jobId: string; enqueued: boolean }> {
  const jobId = `train-${key.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const existing = await queue.getJob(jobId);
  if (existing) return { jobId, enqueued: false };
  await queue.add(JOBS.train, { evaluate } satisfies TrainPayload, { jobId, removeOnComplete: 100, removeOnFail: 100 });
  return { jobId, enqueued: true };
}
