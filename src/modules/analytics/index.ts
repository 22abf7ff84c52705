/**
 * The analytics module: activity ingestion, performance metrics, daily popularity aggregation and staff reports.
 * Other modules and the server use only what is exported here.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import type pg from "pg";
import type { Config } from "../../platform/config.ts";
import type { Logger } from "../../platform/logger.ts";
import { readPool } from "../../platform/read-replica.ts";
import { createAnalyticsRpc } from "./analytics.rpc.ts";
import { createProxyTrust } from "./client-address.ts";
import { createEventStore } from "./event-store.ts";
import { insertMetrics } from "./metric-store.ts";

export { AGGREGATE_DAY_JOB, MAINTAIN_PARTITIONS_JOB, PRUNE_AUDIT_LOG_JOB, analyticsProcessors, scheduleAnalyticsJobs } from "./analytics.jobs.ts";
export { aggregateDay, daysBetween, utcDay } from "./daily-aggregation.ts";
export { maintainPartitions } from "./partition-maintenance.ts";
export { createRpcMetricsRecorder, RPC_LATENCY_METRIC, type RpcMetricsRecorder } from "./rpc-metrics.ts";

export interface AnalyticsModuleDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly orm: MikroORM;
}

/** The `pg` pool under the ORM: bulk paths (COPY, array-bound inserts) use it directly. */
export function nativePool(orm: MikroORM): () => Promise<pg.Pool> {
  return () => orm.em.getConnection().getNativeClient();
}

/** Builds the module once per process. */
export function createAnalyticsModule(deps: AnalyticsModuleDeps) {
  const pool = nativePool(deps.orm);
  const store = createEventStore(pool);
  const rpc = createAnalyticsRpc({
    store,
    trust: createProxyTrust(deps.config.analytics.trustedProxies),
    recordMetric: async (row) => insertMetrics(await pool(), [row]),
    pool,
    reportsPool: readPool(deps.orm),
  });
  return { rpc, store };
}
