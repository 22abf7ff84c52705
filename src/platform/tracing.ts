/**
 * OpenTelemetry tracing, off unless an OTLP endpoint is configured (the standard OTEL_* variables).
 *
 * Off costs nothing: the SDK, the exporter and the instrumentations are loaded with `require` only when tracing
 * starts, no interceptor is added to the RPC chain, BullMQ gets no telemetry option and nobody subscribes to
 * ioredis' diagnostics channels (ioredis then skips building its trace context).
 *
 * On, a trace follows one request across processes:
 *  - a SERVER span per RPC (server/interceptors/tracing.ts), continuing a `traceparent` the client sent;
 *  - a CLIENT span per PostgreSQL query (@opentelemetry/instrumentation-pg) and per Redis command (ioredis 6
 *    publishes each command on the `ioredis:command` tracing channel; the contrib ioredis instrumentation only
 *    patches ioredis < 6) — only inside a traced request or job, so BullMQ's polling makes no root spans;
 *  - BullMQ's own telemetry (bullmq-otel): adding a job records a PRODUCER span and stores its W3C trace context in
 *    the job's options; the worker's CONSUMER span is that span's child, in whichever process takes the job.
 *
 * The OTel SDK reads its own variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME,
 * OTEL_TRACES_SAMPLER…); that is why this module, not platform/config, decides from the environment.
 */
import { createRequire } from "node:module";
import type { Tracer } from "@opentelemetry/api";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import type { Telemetry } from "bullmq";

const require = createRequire(import.meta.url);

/** The OpenTelemetry API package name, kept in one place so callers never import it when tracing is off. */
type OtelApi = typeof import("@opentelemetry/api");

interface Active {
  readonly api: OtelApi;
  readonly tracer: Tracer;
  readonly bull: Telemetry;
  shutdown(): Promise<void>;
}

let active: Active | undefined;

/** True when the standard variables ask for traces: an OTLP endpoint, and neither the SDK nor the exporter disabled. */
export function tracingRequested(env: Record<string, string | undefined>): boolean {
  if (env.OTEL_SDK_DISABLED === "true" || env.OTEL_TRACES_EXPORTER === "none") return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export interface StartTracingOptions {
  /** `service.name` of every span from this process (OTEL_SERVICE_NAME wins when set). */
  serviceName: string;
  /** Where spans go; default: the OTLP/HTTP protobuf exporter configured by the OTEL_EXPORTER_OTLP_* variables. */
  exporter?: SpanExporter;
}

/**
 * Registers the global tracer provider, the W3C propagator, the PostgreSQL and Redis spans. Call it before `pg` is
 * first loaded (main.ts does, on its first line) so the pg client is patched. Idempotent.
 */
export function startTracing(opts: StartTracingOptions): void {
  if (active) return;
  const api = require("@opentelemetry/api") as OtelApi;
  const sdk = require("@opentelemetry/sdk-trace") as typeof import("@opentelemetry/sdk-trace");
  const { AsyncLocalStorageContextManager } = require("@opentelemetry/context-async-hooks") as typeof import("@opentelemetry/context-async-hooks");
  const { W3CTraceContextPropagator } = require("@opentelemetry/core") as typeof import("@opentelemetry/core");
  const { resourceFromAttributes } = require("@opentelemetry/resources") as typeof import("@opentelemetry/resources");
  const exporter = opts.exporter ?? new (require("@opentelemetry/exporter-trace-otlp-proto") as typeof import("@opentelemetry/exporter-trace-otlp-proto")).OTLPTraceExporter();
  // A test's in-memory exporter must see spans as they end; a real exporter batches them.
  const processor = opts.exporter ? new sdk.SimpleSpanProcessor({ exporter }) : new sdk.BatchSpanProcessor({ exporter });
  const provider = new sdk.TracerProvider({
    resource: resourceFromAttributes({ "service.name": process.env.OTEL_SERVICE_NAME ?? opts.serviceName }),
    spanProcessors: [processor],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(contextManager);
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  api.trace.setGlobalTracerProvider(provider);

  const { PgInstrumentation } = require("@opentelemetry/instrumentation-pg") as typeof import("@opentelemetry/instrumentation-pg");
  const pg = new PgInstrumentation({ requireParentSpan: true });
  pg.setTracerProvider(provider);
  pg.enable();
  const tracer = api.trace.getTracer("movierec");
  const unsubscribeRedis = traceRedisCommands(api, tracer);
  const { BullMQOtel } = require("bullmq-otel") as typeof import("bullmq-otel");
  active = {
    api,
    tracer,
    bull: new BullMQOtel({ tracerName: "bullmq" }) as unknown as Telemetry,
    async shutdown() {
      unsubscribeRedis();
      pg.disable();
      await provider.shutdown();
      api.trace.disable();
      api.context.disable();
      api.propagation.disable();
      contextManager.disable();
      active = undefined;
    },
  };
}

/** Starts tracing when the environment asks for it (see `tracingRequested`); returns whether it is on. */
export function startTracingFromEnv(serviceName: string, env: Record<string, string | undefined> = process.env): boolean {
  if (tracingRequested(env)) startTracing({ serviceName });
  return active !== undefined;
}

/** Flushes the spans still buffered and stops tracing (on shutdown, and between tests). */
export async function stopTracing(): Promise<void> {
  await active?.shutdown();
}

/** The tracer and API when tracing is on, else undefined: callers add their instrumentation only then. */
export function activeTracing(): { api: OtelApi; tracer: Tracer } | undefined {
  return active;
}

/** BullMQ's `telemetry` option for queues and workers: undefined (no cost) when tracing is off. */
export function bullTelemetry(): Telemetry | undefined {
  return active?.bull;
}

/** The fields ioredis 6 puts on its `ioredis:command` tracing-channel messages. */
interface RedisCommandMessage {
  command: string;
  args: string[];
  database: number;
  serverAddress: string;
  serverPort?: number;
  error?: unknown;
  span?: import("@opentelemetry/api").Span;
}

/** A CLIENT span per Redis command issued inside a traced request or job. Returns the unsubscribe function. */
function traceRedisCommands(api: OtelApi, tracer: Tracer): () => void {
  const dc = require("node:diagnostics_channel") as typeof import("node:diagnostics_channel");
  const channel = dc.tracingChannel<unknown, RedisCommandMessage>("ioredis:command");
  const handlers = {
    start(m: RedisCommandMessage) {
      // Only inside something traced: BullMQ's blocking polls and the health pings would otherwise each be a trace.
      if (!api.trace.getSpan(api.context.active())) return;
      m.span = tracer.startSpan(m.command, {
        kind: api.SpanKind.CLIENT,
        attributes: { "db.system.name": "redis", "db.operation.name": m.command, "db.namespace": String(m.database), "server.address": m.serverAddress, ...(m.serverPort ? { "server.port": m.serverPort } : {}) },
      });
    },
    end() {},
    asyncStart() {},
    asyncEnd(m: RedisCommandMessage) {
      m.span?.end();
    },
    error(m: RedisCommandMessage) {
      if (!m.span) return;
      m.span.recordException(m.error instanceof Error ? m.error : String(m.error));
      m.span.setStatus({ code: api.SpanStatusCode.ERROR });
    },
  };
  channel.subscribe(handlers);
  return () => channel.unsubscribe(handlers);
}
