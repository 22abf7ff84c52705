/**
 * RPC metrics: the interceptor feeds the Prometheus histogram at GET /metrics and the in-memory recorder, which
 * writes one aggregated row per method to performance_metrics when flushed (not one per request).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { AnalyticsService } from "../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { createLogger } from "../../src/platform/logger.ts";
import { closeAppDeps, dependencyProbes, openAppDeps, type AppDeps } from "../../src/server/app-deps.ts";
import { buildAuthenticator, buildImpls } from "../../src/server/impls.ts";
import { createServerMetrics, type ServerMetrics } from "../../src/server/metrics-endpoint.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { bucketOf, bucketUpperMs, percentile } from "../../src/modules/analytics/latency-histogram.ts";
import { testConfig } from "../support/server.ts";
import { sql, uniqueSession, viewEvent } from "./helpers.ts";

let deps: AppDeps;
let metrics: ServerMetrics;
let server: RunningServer;
let baseUrl: string;

beforeAll(async () => {
  // A flush interval far beyond the test: rows appear only when the test flushes.
  const config = testConfig({ METRICS_FLUSH_INTERVAL_MS: "3600000", HEALTH_INTERVAL_MS: "1000" });
  const log = createLogger({ level: "silent" });
  deps = await openAppDeps(config, log);
  metrics = createServerMetrics(deps);
  server = await startServer({ config, log, probes: dependencyProbes(deps), impls: buildImpls(deps), authenticate: buildAuthenticator(deps), metrics });
  baseUrl = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.close();
  await metrics?.close();
  if (deps) await closeAppDeps(deps);
});

describe("latency histogram", () => {
  it("reads percentiles within 5% of the exact value", () => {
    const h = new Map<number, number>();
    const values = Array.from({ length: 1000 }, (_, i) => (i + 1) * 0.37); // 0.37 … 370 ms
    for (const v of values) h.set(bucketOf(v), (h.get(bucketOf(v)) ?? 0) + 1);
    for (const [q, exact] of [[0.5, values[499]!], [0.95, values[949]!], [0.99, values[989]!]] as const) {
      const got = percentile(h, q);
      expect(got).toBeGreaterThanOrEqual(exact * 0.9999);
      expect(got).toBeLessThanOrEqual(exact * 1.05);
    }
    expect(bucketUpperMs(bucketOf(12.3))).toBeGreaterThanOrEqual(12.3);
    expect(percentile(new Map(), 0.5)).toBe(0);
  });
});

describe("RPC metrics", () => {
  it("GET /metrics shows per-method latency histograms, queues, pool and process metrics", async () => {
    const health = createClient(Health, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
    for (let i = 0; i < 3; i++) await health.check({ service: "" });
    const analytics = createClient(AnalyticsService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
    const err = await analytics.trackEvent({ event: viewEvent(uniqueSession()) }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);

    const res = await fetch(`${baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/movierec_rpc_duration_seconds_count\{method="\/grpc\.health\.v1\.Health\/Check",code="ok"\} 3/);
    expect(text).toMatch(/movierec_rpc_duration_seconds_bucket\{le="0\.1",method="\/grpc\.health\.v1\.Health\/Check",code="ok"\} \d+/);
    expect(text).toMatch(/movierec_rpc_duration_seconds_count\{method="\/movierec\.analytics\.v1\.AnalyticsService\/TrackEvent",code="unauthenticated"\} 1/);
    expect(text).toMatch(/movierec_queue_jobs\{queue="analytics",state="waiting"\} \d+/);
    expect(text).toMatch(/movierec_db_pool_connections\{state="max"\} 4/);
    expect(text).toMatch(/movierec_cache_hit_ratio \d/);
    expect(text).toMatch(/movierec_process_resident_memory_bytes \d+/);
  });

  it("flushes one aggregated row per method to performance_metrics", async () => {
    const health = createClient(Health, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
    await metrics.close(); // flush what the previous test recorded
    const before = await sql<{ id: string }>(deps.orm, "select max(id)::text as id from performance_metrics");
    for (let i = 0; i < 5; i++) await health.check({ service: "" });
    await metrics.close();
    const rows = await sql<{ endpoint: string; metric_name: string; metric_unit: string; additional_data: { count: number; errors: number; codes: Record<string, number>; hist: Record<string, number> } }>(
      deps.orm,
      "select endpoint, metric_name, metric_unit, additional_data from performance_metrics where id > ? and endpoint = '/grpc.health.v1.Health/Check'",
      [before[0]!.id ?? "0"],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ metric_name: "rpc.server.latency", metric_unit: "ms", additional_data: { count: 5, errors: 0, codes: { ok: 5 } } });
    expect(Object.values(rows[0]!.additional_data.hist).reduce((a, b) => a + b, 0)).toBe(5);
  });
});
