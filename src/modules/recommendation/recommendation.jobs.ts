/**
 * Processors of the `scoring` queue. Each re-reads state and upserts, so running twice changes nothing; a crash
 * midway leaves the previous rows (each user's rows are replaced in one transaction).
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { UnrecoverableError, type Job, type Queue } from "bullmq";
import type { Logger } from "../../platform/logger.ts";
import type { ModelStore } from "./model-store.ts";
import { JOBS, type RescorePayload } from "./rescore-queue.ts";
import { rescoreUser, trainAndPublish } from "./scoring.ts";
import type { RecommendationOptions } from "./recommendation-service.ts";

export type ScoringProcessor = (job: Job, log: Logger) => Promise<unknown>;

/** Users worth scoring: anyone with interactions, feedback or favourite genres. */
async function scorableUsers(orm: MikroORM, after: string, limit: number): Promise<string[]> {
  const rows = await orm.em.fork().execute<{ id: string }[]>(
    `select id::text as id from users u where u.id > ?::bigint and u.is_active and (
       exists (select 1 from user_movie_interactions i where i.user_id = u.id)
       or exists (select 1 from user_profiles p join user_favorite_genres g on g.userprofile_id = p.id where p.user_id = u.id))
     order by u.id limit ?`,
    [after, limit],
  );
  return rows.map((r) => r.id);
}

export function createScoringProcessors(deps: { orm: MikroORM; redis: Redis; store: ModelStore; scoringQueue: Queue; options: RecommendationOptions }): Record<string, ScoringProcessor> {
  const opts = { topN: deps.options.topN, maxItems: deps.options.maxItems };
  return {
    async [JOBS.train](job, log) {
      await deps.store.setTraining({ state: "running", jobId: job.id ?? "", lastError: "" });
      try {
        const { meta } = await trainAndPublish(deps.orm, deps.store, opts);
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
      let after = String((job.progress as { after?: string } | undefined)?.after ?? "0");
      let users = 0;
      for (;;) {
        const batch = await scorableUsers(deps.orm, after, 500);
        if (batch.length === 0) break;
        for (const userId of batch) await rescoreUser(deps.orm, deps.redis, stored, userId, opts);
        users += batch.length;
        after = batch[batch.length - 1];
        // A retried job resumes after the last finished batch.
        await job.updateProgress({ after });
      }
      log.info({ users, version: stored.meta.version }, "batch scoring done");
      return { users };
    },
    async [JOBS.rescoreUser](job) {
      const { userId } = job.data as RescorePayload;
      const stored = await deps.store.current();
      // Without a model there is nothing to fold into: the cold-start list serves the user meanwhile.
      if (!stored) return { skipped: "no model" };
      return { written: await rescoreUser(deps.orm, deps.redis, stored, userId, opts) };
    },
  };
}
