/** The staff report handlers of AnalyticsService: protobuf <-> report rows (queries in reports.ts). */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type pg from "pg";
import { TopMoviesMetric } from "../../../gen/movierec/analytics/v1/analytics_service_pb.js";
import type { AnalyticsService } from "../../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { NotificationType } from "../../../gen/movierec/notification/v1/notification_pb.js";
import { Algorithm } from "../../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { InvalidInputError } from "../../platform/errors.ts";
import { activeUsers, notificationFunnel, performanceSummary, popularitySeries, recommendationCtr, topMovies, type TopBy } from "./reports.ts";

export interface ReportsRpcDeps {
  readonly pool: () => Promise<pg.Pool>;
}

const TOP_BY: Record<number, TopBy> = {
  [TopMoviesMetric.VIEWS]: "views",
  [TopMoviesMetric.LIKES]: "likes",
  [TopMoviesMetric.RATING]: "rating",
  [TopMoviesMetric.CTR]: "ctr",
};
const ALGORITHMS: Record<number, string> = {
  [Algorithm.COLLABORATIVE]: "collaborative",
  [Algorithm.CONTENT_BASED]: "content_based",
  [Algorithm.HYBRID]: "hybrid",
  [Algorithm.TRENDING]: "trending",
};
const ALGORITHM_ENUM = Object.fromEntries(Object.entries(ALGORITHMS).map(([k, v]) => [v, Number(k) as Algorithm]));
const NOTIFICATION_TYPES: Record<string, NotificationType> = { email: NotificationType.EMAIL, push: NotificationType.PUSH };
/** Longest range a day-by-day report accepts: bounded work per call. */
const MAX_DAYS = 366;

function checkRange(start: string, end: string): void {
  const days = (Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000;
  if (Number.isNaN(days)) throw new InvalidInputError("not a calendar date", "start_date");
  if (days >= MAX_DAYS) throw new InvalidInputError(`the range may span at most ${MAX_DAYS} days`, "end_date");
}

/** Report handlers (the auth rules already require staff or an analytics.read service token). */
export function createReportsRpc(deps: ReportsRpcDeps): Partial<ServiceImpl<typeof AnalyticsService>> {
  return {
    async getTopMovies(req) {
      checkRange(req.startDate, req.endDate);
      const rows = await topMovies(await deps.pool(), req.startDate, req.endDate, TOP_BY[req.by] ?? "views", req.limit === 0 ? 20 : req.limit);
      return { movies: rows.map((r) => ({ ...r, avgRating: r.avgRating ?? undefined })) };
    },
    async getPopularity(req) {
      checkRange(req.startDate, req.endDate);
      const rows = await popularitySeries(await deps.pool(), req.movieId, req.startDate, req.endDate);
      return { points: rows.map((r) => ({ ...r, avgRating: r.avgRating ?? undefined })) };
    },
    async getPerformanceSummary(req) {
      const rows = await performanceSummary(await deps.pool(), timestampDate(req.startTime!), timestampDate(req.endTime!), req.methodPrefix);
      return { methods: rows };
    },
    async getActiveUsers(req) {
      checkRange(req.startDate, req.endDate);
      const rows = await activeUsers(await deps.pool(), req.startDate, req.endDate);
      return { points: rows.map((r) => ({ date: r.date, dailyActiveUsers: r.dau, weeklyActiveUsers: r.wau, interactionCount: r.interactions })) };
    },
    async getRecommendationCtr(req) {
      checkRange(req.startDate, req.endDate);
      const rows = await recommendationCtr(await deps.pool(), req.startDate, req.endDate, ALGORITHMS[req.algorithm]);
      return { points: rows.map((r) => ({ ...r, algorithm: ALGORITHM_ENUM[r.algorithm] ?? Algorithm.UNSPECIFIED })) };
    },
    async getNotificationFunnel(req) {
      checkRange(req.startDate, req.endDate);
      const rows = await notificationFunnel(await deps.pool(), req.startDate, req.endDate);
      return { stages: rows.map((r) => ({ ...r, type: NOTIFICATION_TYPES[r.type] ?? NotificationType.UNSPECIFIED })) };
    },
  };
}
