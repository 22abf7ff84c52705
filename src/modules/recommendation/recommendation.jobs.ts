/**
 * Processors of the `scoring` queue. Each re-reads state and upserts, so running twice changes nothing; a crash
 * midway leaves the previous rows (each user's rows are replaced in one transaction).
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { DelayedError, UnrecoverableError, type Job, type Queue } from "bullmq";
import type { Logger } from "../../platform/logger.ts";
import type { ModelStore } from "./model-store.ts";
import { enqueueRescore, JOBS, type RescorePayload, type TrainPayload } from "./rescore-queue.ts";
import { overdueRescores } from "./rescore-requests.ts";
import { acquireTrainLock } from "./training/train-lock.ts";
import { rescoreUser, trainAndPublish } from "./scoring.ts";
import { DEFAULT_SHARD_USERS, processScoreAll, processScoreRange } from "./score-all-shards.ts";
import type { RecommendationOptions } from "./recommendation-service.ts";

export type ScoringProcessor = (job: Job, log: Logger, token?: string) => Promise<unknown>;

/** The training guard: the lock's time to live (renewed while held) and how long a job waits when another trains. */
export interface TrainGuardOptions {
  lockTtlMs: number;
  busyDelayMs: number;
}

const doneKey = (jobId: string) => `rec:training:done:${jobId}`;

const DEFAULT_GUARD: TrainGuardOptions = { lockTtlMs: 60_000, busyDelayMs: 30_000 };

export function createScoringProcessors(deps: {
  orm: MikroORM;
  redis: Redis;
  store: ModelStore;
  scoringQueue: Queue;
  options: RecommendationOptions;
  afterRescore?: ((userIds: readonly string[]) => Promise<void>) | undefined;
  guard?: Partial<TrainGuardOptions>;
  /** The sweep's period: a request older than the debounce plus this has lost its job. */
  rescoreSweepMs?: number;
  /** Scorable users per range of a full scoring run (REC_SCORE_SHARD_USERS). */
  shardUsers?: number;
}): Record<string, ScoringProcessor> {
  const opts = { topN: deps.options.topN, maxItems: deps.options.maxItems, threads: deps.options.scoreThreads };
  const shards = { orm: deps.orm, redis: deps.redis, store: deps.store, scoringQueue: deps.scoringQueue, options: opts, shardUsers: deps.shardUsers ?? DEFAULT_SHARD_USERS };
  const guard = { ...DEFAULT_GUARD, ...deps.guard };
  return {
    async [JOBS.train](job, log, token) {
      const lock = await acquireTrainLock(deps.redis, job.id ?? "", guard.lockTtlMs);
      if (!lock.acquired) {
        // A stalled copy of this very job: its first run may still be training elsewhere, or its worker may have
        // died mid-training (SIGKILL) and left the lock to expire. Completing as skipped would lose the training in
        // the second case, so wait one lock lifetime: then the done marker says it finished, or the lock is free.
        if (lock.holder === job.id && token !== undefined) {
          log.info("this job's lock is held by an earlier run of it; retried after the lock's lifetime");
          await job.moveToDelayed(Date.now() + guard.lockTtlMs, token);
          throw new DelayedError();
        }
        if (lock.holder === job.id) return { skipped: "this job is already training in another worker" };
        // Another training job runs: this one waits its turn (delayed, not failed, so no attempt is used up).
        log.info({ holder: lock.holder }, "another training is running; delayed");
        if (token === undefined) throw new Error(`training job ${lock.holder} is running`);
        await job.moveToDelayed(Date.now() + guard.busyDelayMs, token);
        throw new DelayedError();
      }
      // A job that already published (its completion lost with its BullMQ lock, then retried as stalled) is done.
      const done = await deps.redis.get(doneKey(job.id ?? ""));
      if (done) {
        await lock.release();
        return { skipped: "this job already trained", modelVersion: done };
      }
      await deps.store.setTraining({ state: "running", jobId: job.id ?? "", lastError: "" });
      try {
        const { evaluate } = (job.data ?? {}) as TrainPayload;
        await job.updateProgress({ phase: "loading" });
        const { meta } = await trainAndPublish(deps.orm, deps.store, { ...opts, evaluate: evaluate === true, tuneSeconds: deps.options.tuneSeconds, onProgress: (p) => void job.updateProgress(p).catch(() => undefined) });
        await deps.redis.set(doneKey(job.id ?? ""), meta.version, "EX", 86_400);
        await deps.store.setTraining({ state: "idle" });
        await job.updateProgress({ phase: "published", version: meta.version });
        log.info({ meta }, "model published");
        // Enqueued after the model is stored: the batch scores with it.
        await deps.scoringQueue.add(JOBS.scoreAll, { version: meta.version }, { jobId: `score-all-${meta.version}` });
        return meta;
      } catch (err) {
        await deps.store.setTraining({ state: "failed", lastError: err instanceof Error ? err.message : String(err) });
        throw err;
      } finally {
        await lock.release();
      }
    },
    // A full run, split into user ranges that every worker process takes (score-all-shards.ts).
    [JOBS.scoreAll]: (job, log, token) => processScoreAll(shards, job, log, token),
    [JOBS.scoreRange]: (job, log) => processScoreRange(shards, job, log),
    async [JOBS.rescoreUser](job) {
      const { userId } = job.data as RescorePayload;
      const stored = await deps.store.current();
      // Without a model there is nothing to fold into: the cold-start list serves the user meanwhile, and the
      // request stays in the outbox for the batch scoring that follows the next training.
      if (!stored) return { skipped: "no model" };
      const written = await rescoreUser(deps.orm, deps.redis, stored, userId, opts);
      await deps.afterRescore?.([userId]); // the rows are committed: the notification module's alert hook (best effort)
      return { written };
    },
    /** Re-enqueues the outbox's overdue requests: their job never reached Redis, or Redis lost it. */
    async [JOBS.rescoreSweep](_job, log) {
      if (!(await deps.store.current())) return { skipped: "no model" }; // the next training's batch covers them
      const overdue = await overdueRescores(deps.orm.em.fork(), deps.options.rescoreDebounceMs + (deps.rescoreSweepMs ?? 30_000));
      let requeued = 0;
      for (const userId of overdue) if (await enqueueRescore(deps.scoringQueue, userId, 0)) requeued++;
      if (requeued > 0) log.info({ requeued }, "overdue rescorings re-enqueued");
      return { overdue: overdue.length, requeued };
    },
  };
}
