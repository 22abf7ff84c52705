/**
 * The analytics queue's jobs and their schedule. `aggregate-day` aggregates one UTC day (payload `{ day }`; without
 * it, yesterday) and `maintain-partitions` runs the partition upkeep. Both are idempotent, so BullMQ's retries and
 * a schedule firing on two instances are harmless. The worker role registers the daily schedulers at start.
 */
import type { Job, Queue } from "bullmq";
import type { MikroORM } from "@mikro-orm/postgresql";
import type pg from "pg";
import type { Config } from "../../platform/config.ts";
import type { Logger } from "../../platform/logger.ts";
import { aggregateDay, utcDay } from "./daily-aggregation.ts";
import { maintainPartitions } from "./partition-maintenance.ts";
import { pruneAuditLog } from "../audit/index.ts";

export const AGGREGATE_DAY_JOB = "aggregate-day";
export const MAINTAIN_PARTITIONS_JOB = "maintain-partitions";
export const PRUNE_AUDIT_LOG_JOB = "prune-audit-log";

type Processor = (job: Job, log: Logger) => Promise<unknown>;

/** Processors of the analytics queue. */
export function analyticsProcessors(deps: { orm: MikroORM; pool: () => Promise<pg.Pool>; config: Config }): Record<string, Processor> {
  return {
    async [AGGREGATE_DAY_JOB](job, log) {
      const day = typeof job.data?.day === "string" ? job.data.day : utcDay(new Date(Date.now() - 86_400_000));
      const result = await aggregateDay(await deps.pool(), day);
      log.info(result, "day aggregated");
      return result;
    },
    async [MAINTAIN_PARTITIONS_JOB](_job, log) {
      const result = await maintainPartitions(deps.orm, {
        now: new Date(),
        monthsAhead: 3,
        retentionMonths: deps.config.analytics.retentionMonths,
        archiveMode: deps.config.analytics.archiveMode,
      });
      log.info(result, "partitions maintained");
      return result;
    },
    async [PRUNE_AUDIT_LOG_JOB](_job, log) {
      const deleted = await pruneAuditLog(deps.orm.em.fork(), deps.config.analytics.auditRetentionDays);
      log.info({ deleted, retentionDays: deps.config.analytics.auditRetentionDays }, "audit log pruned");
      return { deleted };
    },
  };
}

/** Registers the daily schedules (upserted: restarting workers does not multiply them). */
export async function scheduleAnalyticsJobs(queue: Queue): Promise<void> {
  // 00:20 UTC: yesterday is complete (events may arrive a little late); the job aggregates yesterday.
  await queue.upsertJobScheduler("daily-aggregation", { pattern: "20 0 * * *", tz: "UTC" }, { name: AGGREGATE_DAY_JOB, data: {} });
  await queue.upsertJobScheduler("partition-maintenance", { pattern: "10 0 * * *", tz: "UTC" }, { name: MAINTAIN_PARTITIONS_JOB, data: {} });
  await queue.upsertJobScheduler("audit-retention", { pattern: "40 0 * * *", tz: "UTC" }, { name: PRUNE_AUDIT_LOG_JOB, data: {} });
}
