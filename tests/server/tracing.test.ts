/**
 * One trace from an RPC through the queue to the worker: RecordInteraction (SERVER span) enqueues the user's rescoring
 * (PRODUCER span, its W3C context stored in the job by BullMQ's telemetry), and a BullMQ worker takes the job from
 * Redis in a root context of its own and processes it in a CONSUMER span of the same trace. PostgreSQL queries and
 * Redis commands inside show up as CLIENT spans. Spans go to an in-memory exporter.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { activeTracing, startTracing, stopTracing, tracingRequested } from "../../src/platform/tracing.ts";
import { InteractionType } from "../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import type { TestServer } from "../support/server.ts";
import type { RunningWorkers } from "../../src/worker/workers.ts";

const exporter = new InMemorySpanExporter();
let ts: TestServer;
let workers: RunningWorkers;
let seedMovie: typeof import("../recommendation/fixtures.ts").seedMovie;
let createTestUser: typeof import("../auth/test-users.ts").createTestUser;

beforeAll(async () => {
  // Before anything loads `pg`: its client is patched when first required (main.ts does the same on its first line).
  startTracing({ serviceName: "movierec-test", exporter });
  const { startTestServer } = await import("../support/server.ts");
  const { startWorkers } = await import("../../src/worker/workers.ts");
  const { createRecommendationModule } = await import("../../src/modules/recommendation/index.ts");
  const { createLogger } = await import("../../src/platform/logger.ts");
  ({ seedMovie } = await import("../recommendation/fixtures.ts"));
  ({ createTestUser } = await import("../auth/test-users.ts"));
  // A queue prefix of our own, so only this file's worker takes this file's jobs; rescoring without delay.
  const prefix = `${inject("redisPrefix")}trace${process.pid}`;
  ts = await startTestServer({ env: { REDIS_PREFIX: prefix, REC_RESCORE_DEBOUNCE_MS: "0" } });
  const recommendation = createRecommendationModule(ts.deps);
  workers = startWorkers({ redisUrl: inject("redisUrl"), prefix, log: createLogger({ level: "silent" }), processors: { scoring: recommendation.processors } });
});
afterAll(async () => {
  await workers?.close();
  await ts?.deps.queues.scoring.obliterate({ force: true }).catch(() => undefined);
  await ts?.close();
  await stopTracing();
});

/** Waits until `find` returns a span among the exported ones. */
async function waitForSpan(find: (spans: ReadableSpan[]) => ReadableSpan | undefined, timeoutMs = 15_000): Promise<ReadableSpan> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = find(exporter.getFinishedSpans());
    if (s) return s;
    if (Date.now() > until) throw new Error(`span not exported; have: ${exporter.getFinishedSpans().map((x) => x.name).join(", ")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe("tracing", () => {
  it("is off unless an OTLP endpoint is configured", () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_SDK_DISABLED: "true" })).toBe(false);
    expect(activeTracing()).toBeDefined();
  });

  it("follows RecordInteraction through the queue into the worker's job as one trace", async () => {
    const user = await createTestUser(ts.deps, { prefix: "trace" });
    const movieId = await seedMovie(ts.orm);
    exporter.reset();
    const client = createClient(RecommendationService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
    // The caller's own trace: the server continues it (W3C traceparent header).
    const callerTraceId = "0af7651916cd43dd8448eb211c80319c";
    await client.recordInteraction({ movieId, type: InteractionType.LIKE }, { headers: { ...user.headers, traceparent: `00-${callerTraceId}-b7ad6b7169203331-01` } });

    const rpc = await waitForSpan((all) => all.find((s) => s.name === "movierec.recommendation.v1.RecommendationService/RecordInteraction"));
    expect(rpc.spanContext().traceId).toBe(callerTraceId);
    expect(parentOf(rpc)).toBe("b7ad6b7169203331");
    const traceId = rpc.spanContext().traceId;
    const inTrace = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);

    // Producer span: the add, under the RPC span.
    const add = await waitForSpan(() => inTrace().find((s) => s.name.startsWith("add scoring")));
    expect(parentOf(add)).toBe(rpc.spanContext().spanId);
    // Consumer span: the worker's processing of that job, a child of the add, same trace.
    const job = await waitForSpan(() => inTrace().find((s) => s.name.startsWith("process scoring")));
    expect(parentOf(job)).toBe(add.spanContext().spanId);
    // Inside the RPC and inside the job: PostgreSQL queries and Redis commands as children of the trace.
    const rpcSpanIds = new Set(inTrace().map((s) => s.spanContext().spanId));
    const pg = inTrace().filter((s) => s.attributes["db.system.name"] === "postgresql" || s.attributes["db.system"] === "postgresql");
    expect(pg.length).toBeGreaterThan(0);
    expect(pg.every((s) => rpcSpanIds.has(parentOf(s) ?? ""))).toBe(true);
    const redis = inTrace().filter((s) => s.attributes["db.system.name"] === "redis");
    expect(redis.length).toBeGreaterThan(0);
    // The worker's own queries are under the job span (reached through the job, not through the RPC's process context).
    const underJob = (s: ReadableSpan): boolean => parentOf(s) === job.spanContext().spanId;
    await waitForSpan(() => inTrace().find((s) => underJob(s) && (s.attributes["db.system.name"] === "postgresql" || s.attributes["db.system"] === "postgresql" || s.attributes["db.system.name"] === "redis")));
  });
});
