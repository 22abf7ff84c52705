/**
 * Prometheus metrics of the API process (`GET /metrics`, text format, prom-client) and the RPC observer behind the
 * metrics interceptor. Each call feeds two sinks: a prom-client histogram (live, for scraping) and the analytics
 * module's in-memory recorder (flushed in batches to `performance_metrics`, for GetPerformanceSummary).
 *
 * Exposed: `movierec_rpc_duration_seconds{method,code}` (histogram); BullMQ queue depths by state and recent job
 * durations; the Redis keyspace hit ratio (our caches live in that Redis); the PostgreSQL pool's connections; and
 * prom-client's default process metrics (CPU, memory, event-loop lag, GC). Queue, Redis and pool figures are read when
 * scraped, so nothing polls between scrapes.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { createRpcMetricsRecorder, nativePool, type RpcMetricsRecorder } from "../modules/analytics/index.ts";
import { QUEUE_NAMES } from "../platform/queues.ts";
import { isClusterCopy } from "../platform/process-cluster.ts";
import type { AppDeps } from "./app-deps.ts";
import { clusterMetricsClient } from "./cluster-metrics.ts";
import type { RpcObserver } from "./interceptors/metrics.ts";

/** What the server needs for metrics: the observer for the interceptor and the `/metrics` handler. */
export interface ServerMetrics {
  readonly observe: RpcObserver;
  /** Answers `GET /metrics`. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Flushes what is left to `performance_metrics`. */
  close(): Promise<void>;
}

const JOB_STATES = ["waiting", "active", "delayed", "failed", "completed", "prioritized", "waiting-children"] as const;
/** Completed jobs per queue whose durations are summarised at each scrape. */
const RECENT_JOBS = 50;

/** Builds the registry and the recorder for one API process. */
export function createServerMetrics(deps: Pick<AppDeps, "orm" | "redis" | "queues" | "log" | "config">): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "movierec_" });
  const rpc = new Histogram({
    name: "movierec_rpc_duration_seconds",
    help: "Latency of RPCs by method and status code",
    labelNames: ["method", "code"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const recorder: RpcMetricsRecorder = createRpcMetricsRecorder({ pool: nativePool(deps.orm), log: deps.log, flushMs: deps.config.analytics.metricsFlushMs });

  new Gauge({
    name: "movierec_queue_jobs",
    aggregator: "first", // read from Redis: the same in every process of a cluster
    help: "BullMQ jobs by queue and state",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        QUEUE_NAMES.map(async (queue) => {
          const counts = await deps.queues[queue].getJobCounts(...JOB_STATES).catch(() => undefined);
          for (const [state, n] of Object.entries(counts ?? {})) this.set({ queue, state }, n);
        }),
      );
    },
  });
  new Gauge({
    name: "movierec_queue_recent_job_duration_seconds",
    aggregator: "first", // read from Redis: the same in every process of a cluster
    help: `Processing time of the last ${RECENT_JOBS} completed jobs per queue (avg and max)`,
    labelNames: ["queue", "stat"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        QUEUE_NAMES.map(async (queue) => {
          const jobs = await deps.queues[queue].getJobs(["completed"], 0, RECENT_JOBS - 1).catch(() => []);
          const secs = jobs.filter((j) => j?.processedOn && j.finishedOn).map((j) => (j.finishedOn! - j.processedOn!) / 1000);
          if (secs.length === 0) return;
          this.set({ queue, stat: "avg" }, secs.reduce((a, b) => a + b, 0) / secs.length);
          this.set({ queue, stat: "max" }, Math.max(...secs));
        }),
      );
    },
  });
  new Gauge({
    name: "movierec_cache_hit_ratio",
    aggregator: "first", // read from Redis: the same in every process of a cluster
    help: "Redis keyspace hits / (hits + misses) since the Redis server started (our caches live there)",
    registers: [registry],
    async collect() {
      const info = await deps.redis.info("stats").catch(() => "");
      const hits = Number(/keyspace_hits:(\d+)/.exec(info)?.[1] ?? 0);
      const misses = Number(/keyspace_misses:(\d+)/.exec(info)?.[1] ?? 0);
      this.set(hits + misses === 0 ? 0 : hits / (hits + misses));
    },
  });
  new Gauge({
    name: "movierec_db_pool_connections",
    help: "PostgreSQL pools (summed over the server's processes): open, idle and waiting (clients queued for a connection), and the maximum",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      const pool = await deps.orm.em.getConnection().getNativeClient().catch(() => undefined);
      if (!pool) return;
      this.set({ state: "total" }, pool.totalCount);
      this.set({ state: "idle" }, pool.idleCount);
      this.set({ state: "waiting" }, pool.waitingCount);
      this.set({ state: "max" }, pool.options.max ?? 0);
    },
  });

  // In a cluster copy, a scrape answers for every process (see cluster-metrics.ts).
  const clusterText = isClusterCopy ? clusterMetricsClient(registry) : undefined;
  return {
    observe(method, code, seconds) {
      rpc.observe({ method, code }, seconds);
      recorder.record(method, code, seconds * 1000);
    },
    handle(_req, res) {
      (clusterText ? clusterText() : registry.metrics()).then(
        (text) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(text);
        },
        (e: unknown) => {
          deps.log.error({ err: e }, "could not render metrics");
          res.writeHead(500, { "content-type": "text/plain" });
          res.end("metrics unavailable");
        },
      );
    },
    close: () => recorder.close(),
  };
}
