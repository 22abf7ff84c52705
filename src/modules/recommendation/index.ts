/** What other modules and the server/worker may use of the recommendation module. */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import type { Config } from "../../platform/config.ts";
import type { Logger } from "../../platform/logger.ts";
import type { Queues } from "../../platform/queues.ts";
import { createReadRouting } from "../../platform/read-replica.ts";
import { ModelStore } from "./model-store.ts";
import { createRecommendationRpc } from "./recommendation.rpc.ts";
import { createRecommendationService, DEFAULT_OPTIONS, type RecommendationOptions } from "./recommendation-service.ts";
import { createScoringProcessors } from "./recommendation.jobs.ts";
import { scheduleTraining } from "./rescore-queue.ts";
import type { ServingHooks } from "./serving-hooks.ts";
import { trainIfNoModel } from "./bootstrap-training.ts";

export { recommendationEntities } from "./entities/index.ts";
export type { RecommendationOptions } from "./recommendation-service.ts";
export type { Assignment, ServedListInfo, ServingHooks } from "./serving-hooks.ts";
export type { HybridParams } from "./algorithms/hybrid.ts";
export { ALGORITHMS, type AlgorithmName } from "./algorithms/recommender.ts";
export { RESCORE_SWEEP_SCHEDULER_ID, TRAIN_SCHEDULER_ID } from "./rescore-queue.ts";
export { keepListsLocally } from "./serving-cache.ts";

/**
 * Builds the module (service, RPC handlers, scoring processors, training schedule) from the shared dependencies.
 * Options come from `config.recommendation` (REC_* variables) when given, then from `options`.
 */
export function createRecommendationModule(
  deps: {
    orm: MikroORM;
    redis: Redis;
    queues: Queues;
    log: Logger;
    config?: Pick<Config, "recommendation"> & Partial<Pick<Config, "readYourWritesMs">>;
    afterRescore?: (userIds: readonly string[]) => Promise<void>;
    /** Online evaluation: impressions and outcomes of served lists (see serving-hooks.ts). */
    servingHooks?: ServingHooks;
  },
  options: Partial<RecommendationOptions> = {},
) {
  const rc = deps.config?.recommendation;
  const fromConfig: Partial<RecommendationOptions> = rc ? { topN: rc.topN, rescoreDebounceMs: rc.rescoreDebounceMs, maxItems: rc.maxItems, tuneSeconds: rc.tuneSeconds, scoreThreads: rc.scoreThreads } : {};
  const opts = { ...DEFAULT_OPTIONS, ...fromConfig, ...options };
  const trainCron = rc?.trainCron ?? "";
  const store = new ModelStore(deps.redis);
  const rescoreSweepMs = rc?.rescoreSweepMs ?? 30_000;
  const base = { orm: deps.orm, redis: deps.redis, scoringQueue: deps.queues.scoring, store, options: opts, afterRescore: deps.afterRescore };
  const service = createRecommendationService({ ...base, log: deps.log, reads: createReadRouting(deps.orm, deps.redis, deps.config?.readYourWritesMs ?? 5000) });
  return {
    service,
    store,
    options: opts,
    rpc: createRecommendationRpc(service, deps.servingHooks),
    processors: createScoringProcessors({ ...base, rescoreSweepMs, ...(rc ? { guard: { lockTtlMs: rc.trainLockMs }, shardUsers: rc.scoreShardUsers } : {}) }),
    /**
     * Registers the scheduled training (REC_TRAIN_CRON, with evaluation) and the rescoring outbox's sweep
     * (REC_RESCORE_SWEEP_MS) under fixed scheduler ids; call in the worker role.
     */
    schedule: () => scheduleTraining(deps.queues.scoring, trainCron, rescoreSweepMs),
    /** At worker start: trains now when no model exists and enough interactions do (REC_BOOTSTRAP_MIN_INTERACTIONS). */
    trainIfNoModel: () => trainIfNoModel({ orm: deps.orm, store, scoringQueue: deps.queues.scoring, log: deps.log }, rc?.bootstrapMinInteractions ?? 0),
  };
}
