import { createCatalogImportProcessors } from "../modules/catalog/catalog.jobs.ts";
import { createRecommendationModule } from "../modules/recommendation/index.ts";
import { createNotificationWorker } from "../modules/notification/index.ts";
import { createEvaluationModule } from "../modules/evaluation/index.ts";
import { analyticsProcessors, nativePool, scheduleAnalyticsJobs } from "../modules/analytics/index.ts";
import type { AppDeps } from "../server/app-deps.ts";
import type { ProcessorTable } from "./workers.ts";

/**
 * Every queue's job processors, built from the shared dependencies: the one place modules'
 * `*.jobs.ts` are wired in. A queue without processors fails unknown jobs at once. `schedule` registers
 * every module's repeatable jobs (idempotent upserts of fixed scheduler ids; see schedules.ts).
 */
export function buildProcessors(deps: AppDeps): { processors: ProcessorTable; schedule: () => Promise<void>; atStart: () => Promise<void> } {
  // Digests and alerts record the movies they show (impressions, flushed at shutdown through deps.onClose).
  const evaluation = createEvaluationModule(deps);
  const notification = createNotificationWorker({ ...deps, evaluation: evaluation.notificationHooks });
  // After a user's rescoring commits, the notification module looks for a recommendation alert.
  const recommendation = createRecommendationModule({ ...deps, afterRescore: notification.recommendationsRescored });
  return {
    processors: {
      scoring: recommendation.processors,
      delivery: notification.processors,
      "catalog-import": createCatalogImportProcessors(deps),
      analytics: analyticsProcessors({ orm: deps.orm, pool: nativePool(deps.orm), config: deps.config }),
    },
    async schedule() {
      await notification.schedule(); // outbox sweep, digest tick, daily alerts
      await recommendation.schedule(); // nightly training with evaluation (REC_TRAIN_CRON), the rescoring sweep
      await scheduleAnalyticsJobs(deps.queues.analytics); // daily aggregation and partition upkeep
    },
    /** One-off work when a worker starts: a first model from the first data (see bootstrap-training.ts). */
    async atStart() {
      // Redis may still be connecting (commands fail fast while it is): a few tries over half a minute.
      for (let attempt = 1; ; attempt++) {
        try {
          await recommendation.trainIfNoModel();
          return;
        } catch (err) {
          if (attempt >= 30) throw err;
          await new Promise((resolve) => setTimeout(resolve, 1000).unref());
        }
      }
    },
  };
}
