/**
 * Processors of the `scoring` queue. Each re-reads state and upserts, so running twice changes nothing; a crash
 * midway leaves the previous rows (each user's rows are replaced in one transaction).
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { UnrecoverableError, type Job, type Queue } from "bullmq";
import type { Logger } from "../../platform/logger.ts";
import type { ModelStore } from "./model-store.ts";
import { enqueueRescore, JOBS, type RescorePayload, type TrainPayload } from "./rescore-queue.ts";
import { overdueRescores } from "./rescore-requests.ts";
import { evaluateTrainingData } from "../../eval/training-evaluation.ts";
import { rescoreUser, scoreAllUsers, trainAndPublish } from "./scoring.ts";
import type { RecommendationOptions } from "./recommendation-service.ts";

export type ScoringProcessor = (job: Job, log: Logger) => Promise<unknown>;

export function createScoringProcessors(deps: {
  orm: MikroORM;
  redis: Redis;
  store: ModelStore;
  scoringQueue: Queue;
  options: RecommendationOptions;
  afterRescore?: ((userIds: readonly string[]) => Promise<void>) | undefined;
  /** The sweep's period: a request older than the debounce plus this has lost its job. */
  rescoreSweepMs?: number;
}): Record<string, ScoringProcessor> {
  const opts = { topN: deps.options.topN, maxItems: deps.options.maxItems };
  return {
    async [JOBS.train](job, log) {
      await deps.store.setTraining({ state: "running", jobId: job.id ?? "", lastError: "" });
      try {
        const { evaluate } = (job.data ?? {}) as TrainPayload;
        const { meta } = await trainAndPublish(deps.orm, deps.store, { ...opts, ...(evaluate ? { evaluate: (data, train) => evaluateTrainingData(data, train) } : {}) });
        await deps.store.setTraining({ state: "idle" });
        log.info({ meta }, "model published");
        // Enqueued after the model is stored: the batch scores with it.
        await deps.scoringQueue.add(JOBS.scoreAll, { version: meta.version }, { jobId: `score-all-${meta.version}` });
        return meta;
      } catch (err) {
        await deps.store.setTraining({ state: "failed", lastError: err instanceof Error ? err.message : String(err) });
        throw err;
      }
    },
    async [JOBS.scoreAll](job, log) {
      const stored = await deps.store.current();
      if (!stored) throw new UnrecoverableError("no model has been trained yet");
      const after = String((job.progress as { after?: string } | undefined)?.after ?? "0");
      // A retried job resumes after the last finished batch.
      const { users, rows } = await scoreAllUsers(deps.orm, deps.redis, stored, opts, { after, onBatch: (a) => job.updateProgress({ after: a }) });
      log.info({ users, rows, version: stored.meta.version }, "batch scoring done");
      return { users, rows };
    },
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
