/**
 * The recommendation module's operations, composed from its parts with explicit dependencies: writes commit first,
 * then invalidate the user's cached lists and enqueue a debounced rescoring (never inside the transaction).
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import type { Queue } from "bullmq";
import { ConflictError, NotFoundError } from "../../platform/errors.ts";
import type { Logger } from "../../platform/logger.ts";
import { createReadRouting, type ReadRouting } from "../../platform/read-replica.ts";
import type { AlgorithmName } from "./algorithms/recommender.ts";
import type { FeedbackType, InteractionType } from "./entities/index.ts";
import { deleteInteraction, listInteractions, recordInteraction, type RecordInput } from "./interactions.ts";
import type { ModelStore } from "./model-store.ts";
import { movieSummaries } from "./movie-summaries.ts";
import { enqueueRescore, enqueueTraining } from "./rescore-queue.ts";
import { requestRescore } from "./rescore-requests.ts";
import { cachedRecommendations, getRecommendations, getSimilar, getTrending, type TrendingWindow } from "./serving.ts";
import type { HybridParams } from "./algorithms/hybrid.ts";
import { getVariantRecommendations } from "./variant-serving.ts";
import { scoreOnReadIfStale } from "./online-scoring.ts";
import { invalidateUser } from "./serving-cache.ts";
import { startTrainingAudited } from "./training-audit.ts";
import { resolveRecommendation } from "./list-handles.ts";

export interface RecommendationOptions {
  /** Rows kept per user and algorithm. */
  topN: number;
  /** How long a rescoring waits for more interactions of the same user. */
  rescoreDebounceMs: number;
  /** Items in the EASE model (dense n² weights). */
  maxItems: number;
  /** Seconds each training spends tuning the hybrid on a validation split of its data (0: serve the defaults). */
  tuneSeconds: number;
  /** Threads computing batch scoring's lists (1: the process's own thread). */
  scoreThreads?: number;
}

export const DEFAULT_OPTIONS: RecommendationOptions = { topN: 100, rescoreDebounceMs: 2000, maxItems: 2500, tuneSeconds: 60 };

export interface RecommendationDeps {
  orm: MikroORM;
  redis: Redis;
  scoringQueue: Queue;
  store: ModelStore;
  log: Logger;
  options: RecommendationOptions;
  /** Where lag-tolerant reads go (replicas) and read-your-writes per user; default: a routing over `orm` with a 5 s window. */
  reads?: ReadRouting;
}

export type RecommendationService = ReturnType<typeof createRecommendationService>;

export function createRecommendationService(deps: RecommendationDeps) {
  const em = () => deps.orm.em.fork();
  // Trending, similar movies and served lists may read a replica; a user's own interactions never do, and for a
  // while after their write neither do their served lists (platform/read-replica.ts).
  const routing = deps.reads ?? createReadRouting(deps.orm, deps.redis, 5000);
  /** After a committed write: fresh lists on the next read, and a rescoring soon (best effort). */
  const afterWrite = async (userId: string) => {
    await routing.wrote(userId);
    await invalidateUser(deps.redis, userId);
    await enqueueRescore(deps.scoringQueue, userId, deps.options.rescoreDebounceMs).catch((err: unknown) => deps.log.warn({ err: String(err), userId }, "rescore not enqueued"));
  };
  return {
    /** True when an account with this id exists (staff look-ups name users by id). */
    async userExists(userId: string): Promise<boolean> {
      return (await em().execute("select 1 from users where id = ?::bigint", [userId])).length > 0;
    },
    async recordInteraction(input: RecordInput, recommendationId?: string) {
      const r = await recordInteraction(em(), input);
      if (recommendationId) await this.recordClick(input.userId, recommendationId).catch(() => undefined);
      await afterWrite(input.userId);
      return r;
    },
    async deleteInteraction(userId: string, target: { id: string } | { movieId: string; type: InteractionType }) {
      const deleted = await deleteInteraction(em(), userId, target);
      if (deleted) await afterWrite(userId);
      return deleted;
    },
    async listInteractions(userId: string, opts: Parameters<typeof listInteractions>[2]) {
      const page = await listInteractions(em(), userId, opts);
      return { ...page, movies: await movieSummaries(em(), [...new Set(page.rows.map((r) => r.movieId))]) };
    },
    /** `hybrid`: an experiment variant's own blend, scored on read (variant-serving.ts). */
    async getRecommendations(userId: string, opts: { algorithm: AlgorithmName; limit: number; genreId?: string | undefined; hybrid?: Partial<HybridParams> | undefined }) {
      if (opts.hybrid && opts.algorithm === "hybrid" && Object.keys(opts.hybrid).length > 0) {
        return getVariantRecommendations(em(), deps.redis, deps.store, userId, opts.hybrid, opts);
      }
      // A cached list was built after the user's last write (writes drop it): one Redis round trip and done.
      const cached = await cachedRecommendations(deps.redis, userId, opts);
      if (cached) return cached;
      // New and light users get their first personalised list on this read, not after the queue (online-scoring.ts).
      const scored = await scoreOnReadIfStale({ orm: deps.orm, redis: deps.redis, store: deps.store, options: deps.options }, userId, opts.algorithm).catch((err: unknown) => {
        deps.log.warn({ err: String(err), userId }, "scoring on read failed; serving the stored list");
        return false;
      });
      // Rows just written on the primary are read there: a lagging replica would serve (and cache) the old list.
      return getRecommendations(scored ? em() : await routing.readsFor(userId), deps.redis, userId, opts);
    },
    getSimilar: (movieId: string, limit: number) => getSimilar(routing.reads(), deps.redis, deps.store, movieId, limit),
    getTrending: (opts: { window: TrendingWindow; limit: number; genreId?: string | undefined }) => getTrending(routing.reads(), deps.redis, opts),
    /**
     * Marks one of the user's recommendations clicked (its row is written on this first reference, list-handles.ts);
     * the first click's time stays. Returns it with the row's id.
     */
    async recordClick(userId: string, recommendationId: string): Promise<{ clickedAt: Date; rowId: string }> {
      const rowId = await resolveRecommendation(em(), userId, recommendationId);
      const rows = rowId
        ? await em().execute<{ clicked_at: Date }[]>(
            `update user_recommendations set clicked = true, clicked_at = coalesce(clicked_at, now()) where id = ?::bigint and user_id = ?::bigint returning clicked_at`,
            [rowId, userId],
          )
        : [];
      if (rows.length === 0) throw new NotFoundError("recommendation", recommendationId);
      return { clickedAt: new Date(rows[0].clicked_at), rowId: rowId! };
    },
    /** Stores feedback; it takes effect on the next GetRecommendations (the cached lists are dropped). */
    async submitFeedback(userId: string, recommendationId: string, type: FeedbackType, comment: string, requestId?: string) {
      const rowId = await resolveRecommendation(em(), userId, recommendationId);
      const rows = rowId
        ? await em().execute<{ id: string; timestamp: Date }[]>(
            `insert into recommendation_feedback (user_id, recommendation_id, feedback_type, comment)
             select ?::bigint, r.id, ?, ? from user_recommendations r where r.id = ?::bigint and r.user_id = ?::bigint
             returning id::text as id, "timestamp"`,
            [userId, type, comment, rowId, userId],
          )
        : [];
      if (rows.length === 0) throw new NotFoundError("recommendation", recommendationId);
      // Feedback steers the fold-in: recorded in the rescoring outbox (one statement after the insert, not one transaction).
      await requestRescore(em(), userId);
      if (requestId) {
        // Retries with the same request id answer with the first stored feedback (the extra row is removed).
        const first = await deps.redis.set(`rec:feedback-req:${userId}:${requestId}`, rows[0].id, "EX", 86_400, "NX").catch(() => "OK");
        if (first !== "OK") {
          const original = await deps.redis.get(`rec:feedback-req:${userId}:${requestId}`);
          await em().execute("delete from recommendation_feedback where id = ?::bigint", [rows[0].id]);
          const orig = await em().execute<{ id: string; timestamp: Date }[]>(`select id::text as id, "timestamp" from recommendation_feedback where id = ?::bigint`, [original]);
          if (orig.length === 0) throw new ConflictError("request_id was used for feedback that no longer exists");
          return { id: orig[0].id, createdAt: new Date(orig[0].timestamp) };
        }
      }
      await afterWrite(userId);
      return { id: rows[0].id, createdAt: new Date(rows[0].timestamp) };
    },
    refresh: (userId: string) => enqueueRescore(deps.scoringQueue, userId, 0),
    async modelStatus() {
      return { meta: await deps.store.meta(), training: await deps.store.training() };
    },
    async startTraining(requestId: string | undefined, evaluate: boolean) {
      const r = await startTrainingAudited(em(), () => enqueueTraining(deps.scoringQueue, requestId ?? `manual-${Date.now()}`, evaluate), evaluate);
      if (r.enqueued) await deps.store.setTraining({ state: "queued", jobId: r.jobId, lastError: "" });
      return r;
    },
  };
}
