/** RecommendationService handlers: protobuf ⇄ domain mapping and the caller from the context, nothing else. */
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { GenreSchema, MovieSummarySchema } from "../../../gen/movierec/catalog/v1/catalog_pb.js";
import {
  Algorithm,
  FeedbackType as FeedbackTypeEnum,
  InteractionSchema,
  InteractionSource as SourceEnum,
  InteractionType as TypeEnum,
  ModelStatusSchema,
  ModelValidationSchema,
  HybridParametersSchema,
  RecommendationSchema,
  type Recommendation,
  SimilarMovieSchema,
  TrainingState,
  TrendingMovieSchema,
} from "../../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { TrendingWindow, type RecommendationService } from "../../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { callerKey, requireStaff, requireUser } from "../../platform/caller.ts";
import { InvalidInputError, NotFoundError, PermissionError } from "../../platform/errors.ts";
import { decodePageToken, encodePageToken, pageSize } from "../../platform/page-token.ts";
import type { AlgorithmName } from "./algorithms/recommender.ts";
import type { FeedbackType, InteractionSource, InteractionType } from "./entities/index.ts";
import type { InteractionRow } from "./interactions.ts";
import type { MovieSummaryRow } from "./movie-summaries.ts";
import type { RecommendationService as Service } from "./recommendation-service.ts";
import type { ServingHooks } from "./serving-hooks.ts";
import type { ServedItem } from "./serving.ts";
import type { Tuned } from "../../eval/tune.ts";

const TYPES: Record<number, InteractionType> = {
  [TypeEnum.VIEW]: "view", [TypeEnum.LIKE]: "like", [TypeEnum.DISLIKE]: "dislike", [TypeEnum.FAVORITE]: "favorite",
  [TypeEnum.WATCHLIST]: "watchlist", [TypeEnum.RATING]: "rating", [TypeEnum.SHARE]: "share",
};
const TYPE_ENUM = Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [v, Number(k)])) as Record<InteractionType, TypeEnum>;
const SOURCES: Record<number, InteractionSource> = { [SourceEnum.UNSPECIFIED]: "web", [SourceEnum.WEB]: "web", [SourceEnum.MOBILE]: "mobile", [SourceEnum.EMAIL]: "email", [SourceEnum.PUSH]: "push" };
const SOURCE_ENUM: Record<InteractionSource, SourceEnum> = { web: SourceEnum.WEB, mobile: SourceEnum.MOBILE, email: SourceEnum.EMAIL, push: SourceEnum.PUSH };
const ALGOS: Record<number, AlgorithmName> = { [Algorithm.UNSPECIFIED]: "hybrid", [Algorithm.HYBRID]: "hybrid", [Algorithm.COLLABORATIVE]: "collaborative", [Algorithm.CONTENT_BASED]: "content_based", [Algorithm.TRENDING]: "trending" };
const ALGO_ENUM: Record<AlgorithmName, Algorithm> = { hybrid: Algorithm.HYBRID, collaborative: Algorithm.COLLABORATIVE, content_based: Algorithm.CONTENT_BASED, trending: Algorithm.TRENDING };
const FEEDBACK: Record<number, FeedbackType> = { [FeedbackTypeEnum.POSITIVE]: "positive", [FeedbackTypeEnum.NEGATIVE]: "negative", [FeedbackTypeEnum.NOT_INTERESTED]: "not_interested", [FeedbackTypeEnum.ALREADY_SEEN]: "already_seen" };
const WINDOWS = { [TrendingWindow.UNSPECIFIED]: "week", [TrendingWindow.DAY]: "day", [TrendingWindow.WEEK]: "week", [TrendingWindow.MONTH]: "month" } as const;
const STATES = { idle: TrainingState.IDLE, queued: TrainingState.QUEUED, running: TrainingState.RUNNING, failed: TrainingState.FAILED } as const;

function summary(m: MovieSummaryRow) {
  return create(MovieSummarySchema, {
    id: m.id, tmdbId: m.tmdbId, title: m.title, releaseDate: m.releaseDate, posterPath: m.posterPath,
    tmdbRating: m.tmdbRating ?? undefined, popularityScore: m.popularityScore,
    genres: m.genres.map((g) => create(GenreSchema, g)),
  });
}

/**
 * A served item's message, made once per item object: a list answered from the process's local copy hands out the
 * same frozen items call after call (serving-cache.ts), so their messages are too (connect only reads them).
 */
const recommendationMessages = new WeakMap<ServedItem, Recommendation>();
function recommendationOf(i: ServedItem): Recommendation {
  let m = recommendationMessages.get(i);
  if (m === undefined) {
    m = create(RecommendationSchema, { id: i.id, movie: summary(i.movie), score: i.score, algorithm: ALGO_ENUM[i.algorithm], reason: i.reason, generatedAt: timestampFromDate(i.generatedAt) });
    recommendationMessages.set(i, m);
  }
  return m;
}

function interaction(r: InteractionRow, movie?: MovieSummaryRow) {
  return create(InteractionSchema, {
    id: r.id, userId: r.userId, movieId: r.movieId, type: TYPE_ENUM[r.type], rating: r.rating ?? undefined,
    source: SOURCE_ENUM[r.source], occurredAt: timestampFromDate(r.occurredAt), movie: movie ? summary(movie) : undefined,
  });
}

/** Page tokens: the shared format (platform/page-token.ts) holding the last row's time and id. */
function decodeToken(token: string): { at: Date; id: string } | undefined {
  const parts = decodePageToken(token, ["time", "id"]);
  return parts && { at: new Date(parts[0]), id: parts[1] };
}
const encodeToken = (c: { at: Date; id: string }) => encodePageToken([c.at.toISOString(), c.id]);

/**
 * Whose data a read is about: the caller's own, or (staff only) the user named in `requested`. Anyone else naming
 * another user is PERMISSION_DENIED; an unknown user is NOT_FOUND rather than an empty or trending answer.
 */
async function subjectOf(svc: Service, caller: { userId: string; isStaff: boolean }, requested: string, what: string): Promise<string> {
  if (requested === "" || requested === caller.userId) return caller.userId;
  if (!caller.isStaff) throw new PermissionError(`only staff may read another user's ${what}`);
  if (!(await svc.userExists(requested))) throw new NotFoundError("user", requested);
  return requested;
}

/** The RecommendationService implementation over the module's service object. */
export function createRecommendationRpc(svc: Service, hooks: ServingHooks = {}): ServiceImpl<typeof RecommendationService> {
  /** Outcome hooks run after the user's write committed; a failure there never fails the call. */
  const quietly = (p: Promise<void> | undefined) => p?.catch(() => undefined);
  return {
    async recordInteraction(req, ctx) {
      const { userId } = requireUser(ctx.values.get(callerKey));
      const r = await svc.recordInteraction({
        userId, movieId: req.movieId, type: TYPES[req.type], rating: req.rating, source: SOURCES[req.source],
        clientTime: req.clientTime ? timestampDate(req.clientTime) : undefined,
      }, req.recommendationId || undefined);
      if (req.recommendationId) await quietly(hooks.clicked?.(userId, req.recommendationId));
      await quietly(hooks.interacted?.(userId, req.movieId, TYPES[req.type]!, req.rating ?? null));
      return { interaction: interaction(r.interaction), created: r.created };
    },
    async deleteInteraction(req, ctx) {
      const { userId } = requireUser(ctx.values.get(callerKey));
      const t = req.target;
      if (t.case === undefined) throw new InvalidInputError("interaction_id or key is required", "target");
      const deleted = await svc.deleteInteraction(userId, t.case === "interactionId" ? { id: t.value } : { movieId: t.value.movieId, type: TYPES[t.value.type] });
      return { deleted };
    },
    async listInteractions(req, ctx) {
      const userId = await subjectOf(svc, requireUser(ctx.values.get(callerKey)), req.userId, "interactions");
      const limit = pageSize(req.pageSize, { fallback: 50, max: 200 });
      const page = await svc.listInteractions(userId, { type: req.type === TypeEnum.UNSPECIFIED ? undefined : TYPES[req.type], limit, after: decodeToken(req.pageToken) });
      return { interactions: page.rows.map((r) => interaction(r, page.movies.get(r.movieId))), nextPageToken: page.next ? encodeToken(page.next) : "" };
    },
    async getRecommendations(req, ctx) {
      const caller = requireUser(ctx.values.get(callerKey));
      const userId = await subjectOf(svc, caller, req.userId, "recommendations");
      // No algorithm asked for: the user's experiment variant, or the surface's default (a failed lookup serves the hybrid).
      const assigned = req.algorithm === Algorithm.UNSPECIFIED ? await hooks.assign?.(userId, "recommendations").catch(() => undefined) : undefined;
      const algorithm = assigned?.algorithm ?? ALGOS[req.algorithm];
      const r = await svc.getRecommendations(userId, { algorithm, hybrid: assigned?.hybrid, limit: req.limit || 20, genreId: req.genreId || undefined });
      // A staff member looking at another user's list is not that user being shown it: no impression.
      if (userId === caller.userId) {
        hooks.served?.({ surface: "recommendations", userId, algorithm: r.algorithm, movieIds: r.items.map((i) => i.movie.id), experimentId: assigned?.experimentId, variant: assigned?.variant });
      }
      return {
        recommendations: r.items.map(recommendationOf),
        algorithm: ALGO_ENUM[r.algorithm],
        generatedAt: r.items[0] ? timestampFromDate(r.items[0].generatedAt) : timestampFromDate(new Date()),
      };
    },
    async getSimilarMovies(req, ctx) {
      const list = await svc.getSimilar(req.movieId, req.limit || 20);
      const caller = ctx.values.get(callerKey);
      hooks.served?.({ surface: "similar", userId: caller.kind === "user" ? caller.userId : null, algorithm: "similar", movieIds: list.map((s) => s.movie.id) });
      return { movies: list.map((s) => create(SimilarMovieSchema, { movie: summary(s.movie), score: s.score, reason: s.reason })) };
    },
    async getTrendingMovies(req, ctx) {
      const window = WINDOWS[req.window];
      const list = await svc.getTrending({ window, limit: req.limit || 20, genreId: req.genreId || undefined });
      const caller = ctx.values.get(callerKey);
      hooks.served?.({ surface: "trending", userId: caller.kind === "user" ? caller.userId : null, algorithm: "trending", movieIds: list.map((t) => t.movie.id) });
      return { movies: list.map((t) => create(TrendingMovieSchema, { movie: summary(t.movie), score: t.score, interactionCount: t.count })), window: req.window === TrendingWindow.UNSPECIFIED ? TrendingWindow.WEEK : req.window };
    },
    async recordRecommendationClick(req, ctx) {
      const { userId } = requireUser(ctx.values.get(callerKey));
      const { clickedAt, rowId } = await svc.recordClick(userId, req.recommendationId);
      await quietly(hooks.clicked?.(userId, rowId));
      return { clickedAt: timestampFromDate(clickedAt) };
    },
    async submitFeedback(req, ctx) {
      const { userId } = requireUser(ctx.values.get(callerKey));
      const f = await svc.submitFeedback(userId, req.recommendationId, FEEDBACK[req.feedbackType], req.comment, req.requestId || undefined);
      return { feedbackId: f.id, createdAt: timestampFromDate(f.createdAt) };
    },
    async refreshRecommendations(_req, ctx) {
      const { userId } = requireUser(ctx.values.get(callerKey));
      return { enqueued: await svc.refresh(userId) };
    },
    async getModelStatus(_req, ctx) {
      requireStaff(ctx.values.get(callerKey));
      const s = await svc.modelStatus();
      return {
        status: create(ModelStatusSchema, {
          modelVersion: s.meta?.version ?? "", trainedAt: s.meta ? timestampFromDate(new Date(s.meta.trainedAt)) : undefined,
          userCount: s.meta?.userCount ?? 0, movieCount: s.meta?.movieCount ?? 0, interactionCount: BigInt(s.meta?.interactionCount ?? 0),
          evaluation: s.meta?.evaluation ?? {}, evaluatedAt: s.meta?.evaluatedAt ? timestampFromDate(new Date(s.meta.evaluatedAt)) : undefined,
          trainingState: STATES[s.training.state], trainingJobId: s.training.jobId, lastError: s.training.lastError,
          ...(s.meta?.tuning ? { validation: validationOf(s.meta.tuning) } : {}),
        }),
      };
    },
    async startTraining(req, ctx) {
      requireStaff(ctx.values.get(callerKey));
      return svc.startTraining(req.requestId || undefined, req.evaluate);
    },
  };
}

/** The tuning's figures and choice as GetModelStatus reports them. */
function validationOf(t: Tuned) {
  const v = t.validation;
  return create(ModelValidationSchema, {
    ndcgAt10: v.ndcg, recallAt10: v.recall, hitRateAt10: v.hitRate, coverageAt10: v.coverage,
    parameters: create(HybridParametersSchema, {
      recencyTau: t.params.tau, recencyFloor: t.params.floor, easeWeight: t.params.ease, knnWeight: t.params.knn,
      contentWeight: t.params.content, trendingWeight: t.params.trending, easeLambda: t.lambda,
    }),
    users: v.users, heldOutInteractions: v.heldOut, trainInteractions: BigInt(v.trainInteractions),
    candidates: v.candidates, truncated: v.truncated, seconds: v.seconds,
  });
}
