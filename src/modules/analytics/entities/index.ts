/** Analytics entities: activity events, performance measurements and daily popularity aggregates. */
import { DailyActiveUserSchema } from "./daily-active-user.entity.ts";
import { IngestBatchSchema } from "./ingest-batch.entity.ts";
import { PerformanceMetricSchema } from "./performance-metric.entity.ts";
import { PopularityMetricSchema } from "./popularity-metric.entity.ts";
import { UserActivityLogSchema } from "./user-activity-log.entity.ts";

export { DailyActiveUser, DailyActiveUserSchema } from "./daily-active-user.entity.ts";
export { IngestBatch, IngestBatchSchema } from "./ingest-batch.entity.ts";
export { METRIC_UNITS, type MetricUnit, PerformanceMetric, PerformanceMetricSchema } from "./performance-metric.entity.ts";
export { PopularityMetric, PopularityMetricSchema } from "./popularity-metric.entity.ts";
export {
  ACTION_TYPES,
  ACTIVITY_SOURCES,
  type ActionType,
  type ActivitySource,
  UserActivityLog,
  UserActivityLogSchema,
} from "./user-activity-log.entity.ts";

/** The analytics service's entity schemas, for the ORM's `entities` option. */
export const analyticsEntities = [UserActivityLogSchema, PerformanceMetricSchema, PopularityMetricSchema, IngestBatchSchema, DailyActiveUserSchema];
