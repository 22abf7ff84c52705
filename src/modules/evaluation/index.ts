/**
 * Online evaluation: shown impressions (batched), clicks and conversions attributed to them. The server wires
 * `servingHooks` into the recommendation module: the one place this touches serving.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Config } from "../../platform/config.ts";
import type { Logger } from "../../platform/logger.ts";
import { currentAuditContext } from "../audit/index.ts";
import type { NotificationEvaluationHooks } from "../notification/index.ts";
import type { ServingHooks } from "../recommendation/index.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { ExperimentService } from "../../../gen/movierec/recommendation/v1/experiment_service_pb.js";
import { createAssigner } from "./assignment.ts";
import { createExperimentRpc } from "./experiment.rpc.ts";
import { createImpressionRecorder, type ImpressionRecorder } from "./impression-recorder.ts";
import { attributeClick, attributeConversion, conversionOf, movieOfRecommendation } from "./outcomes.ts";

export { evaluationEntities } from "./entities/index.ts";
export { createImpressionRecorder, requestKey, type ImpressionRecorder, type ServedList } from "./impression-recorder.ts";
export { attributeClick, attributeConversion, conversionOf } from "./outcomes.ts";
export { bucketOf, sharesToBasisPoints, variantFor } from "./bucketing.ts";
export { plannedSamplePerArm, twoProportionTest, wilson } from "./experiment-stats.ts";

export interface EvaluationModule {
  recorder: ImpressionRecorder;
  servingHooks: ServingHooks;
  /** Impressions of digests and alerts, clicks on their tracked movie links (for the notification module). */
  notificationHooks: NotificationEvaluationHooks;
  /** ExperimentService (staff). */
  experimentRpc: ServiceImpl<typeof ExperimentService>;
}

/**
 * `onClose` (the process's shutdown registry) flushes the impressions still buffered when the process stops
 * gracefully; without it they are written by the next timer tick only.
 */
export function createEvaluationModule(deps: { config: Pick<Config, "analytics">; log: Logger; orm: MikroORM; onClose?: (fn: () => Promise<void>) => void }): EvaluationModule {
  const a = deps.config.analytics;
  const pool = () => deps.orm.em.getConnection().getNativeClient();
  const recorder = createImpressionRecorder({ pool, log: deps.log, flushMs: a.impressionFlushMs, maxBuffer: a.impressionBufferMax });
  deps.onClose?.(() => recorder.close());
  // An outcome may arrive before its impression's batch was written: write what waits first (the outcome path, not
  // the serving path, pays for it, and only when something waits).
  const settle = async () => (recorder.pending > 0 ? recorder.flush() : undefined);
  const assigner = createAssigner({ pool });
  const servingHooks: ServingHooks = {
    assign: (userId, surface) => assigner.assign(userId, surface),
    served(list) {
      if (!a.recordImpressions) return;
      // The request id of the call (x-request-id, or the one the server generated) keys the impressions.
      const requestId = currentAuditContext()?.requestId ?? "";
      recorder.record({ ...list, requestId });
    },
    async clicked(userId, recommendationId) {
      await settle();
      const p = await pool();
      const movieId = await movieOfRecommendation(p, userId, recommendationId);
      if (movieId) await attributeClick(p, userId, movieId, a.attributionWindowHours);
    },
    async interacted(userId, movieId, type, rating) {
      const conversion = conversionOf(type, rating);
      if (!conversion) return;
      await settle();
      await attributeConversion(await pool(), userId, movieId, conversion, a.attributionWindowHours);
    },
  };
  const notificationHooks: NotificationEvaluationHooks = {
    sent(list) {
      if (a.recordImpressions) recorder.record(list);
    },
    async clicked(userId, movieId) {
      await settle();
      await attributeClick(await pool(), userId, movieId, a.attributionWindowHours);
    },
  };
  return { recorder, servingHooks, notificationHooks, experimentRpc: createExperimentRpc({ orm: deps.orm, changed: () => assigner.invalidate() }) };
}
