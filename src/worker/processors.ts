import { createCatalogImportProcessors } from "../modules/catalog/catalog.jobs.ts";
import { createRecommendationModule } from "../modules/recommendation/index.ts";
import { createNotificationWorker } from "../modules/notification/index.ts";
import { analyticsProcessors, nativePool } from "../modules/analytics/index.ts";
import type { AppDeps } from "../server/app-deps.ts";
import type { ProcessorTable } from "./workers.ts";

/**
 * Every queue's job processors, built from the shared dependencies: the one place modules'
 * `*.jobs.ts` are wired in. A queue without processors fails unknown jobs at once.
 */
export function buildProcessors(deps: AppDeps): ProcessorTable {
  const notification = createNotificationWorker(deps);
  return {
    // After a user's rescoring commits, the notification module looks for a recommendation alert.
    scoring: createRecommendationModule({ ...deps, afterRescore: notification.recommendationsRescored }).processors,
    delivery: notification.processors,
    "catalog-import": createCatalogImportProcessors(deps),
    analytics: analyticsProcessors({ orm: deps.orm, pool: nativePool(deps.orm), config: deps.config }),
  };
}
