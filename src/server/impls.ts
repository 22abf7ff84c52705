import { createCatalogRpc } from "../modules/catalog/index.ts";
import { createUserAuthenticator, createUserModule, type Authenticate } from "../modules/user/index.ts";
import { createAnalyticsModule } from "../modules/analytics/index.ts";
import { createAuditRpc } from "../modules/audit/index.ts";
import { createEvaluationModule } from "../modules/evaluation/index.ts";
import { createNotificationModule } from "../modules/notification/index.ts";
import { createCatalogImportRpc } from "../modules/catalog/catalog-import.rpc.ts";
import { createRecommendationModule, keepListsLocally } from "../modules/recommendation/index.ts";
import type { AppDeps } from "./app-deps.ts";
import type { ApiImpls } from "./services.ts";

/**
 * Builds every service's handlers from the shared dependencies: the one place modules are
 * wired in. A service left `{}` answers UNIMPLEMENTED until its module lands.
 */
export function buildImpls(deps: AppDeps): ApiImpls {
  const evaluation = createEvaluationModule(deps);
  // The API's hottest reads (GetMovie, first pages, a user's cached lists) from the process's own copies for up to
  // LOCAL_CACHE_MS; the worker keeps none (it only publishes what its writes change).
  keepListsLocally(deps.redis, deps.config.localCacheMs);
  return {
    user: createUserModule(deps).rpc,
    catalog: { ...createCatalogRpc({ ...deps, cache: { localMs: deps.config.localCacheMs } }), ...createCatalogImportRpc(deps) },
    recommendation: createRecommendationModule({ ...deps, servingHooks: evaluation.servingHooks }).rpc,
    experiment: evaluation.experimentRpc,
    notification: createNotificationModule({ ...deps, evaluation: evaluation.notificationHooks }).rpc,
    analytics: { ...createAnalyticsModule(deps).rpc, ...createAuditRpc(deps) },
  };
}

/** The bearer-credential check of the auth interceptor (user sessions and service tokens). */
export function buildAuthenticator(deps: AppDeps): Authenticate {
  return createUserAuthenticator(deps);
}
