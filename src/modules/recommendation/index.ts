/** What other modules and the server/worker may use of the recommendation module. */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import type { Logger } from "../../platform/logger.ts";
import type { Queues } from "../../platform/queues.ts";
import { ModelStore } from "./model-store.ts";
import { createRecommendationRpc } from "./recommendation.rpc.ts";
import { createRecommendationService, DEFAULT_OPTIONS, type RecommendationOptions } from "./recommendation-service.ts";
import { createScoringProcessors } from "./recommendation.jobs.ts";

export { recommendationEntities } from "./entities/index.ts";
export type { RecommendationOptions } from "./recommendation-service.ts";

/** Builds the module (service, RPC handlers, scoring processors) from the shared dependencies. */
export function createRecommendationModule(deps: { orm: MikroORM; redis: Redis; queues: Queues; log: Logger }, options: Partial<RecommendationOptions> = {}) {
  const opts = { ...DEFAULT_OPTIONS, ...options };
  const store = new ModelStore(deps.redis);
  const base = { orm: deps.orm, redis: deps.redis, scoringQueue: deps.queues.scoring, store, options: opts };
  const service = createRecommendationService({ ...base, log: deps.log });
  return { service, store, rpc: createRecommendationRpc(service), processors: createScoringProcessors(base) };
}
