import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { createContextValues } from "@connectrpc/connect";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { Config } from "../platform/config.ts";
import type { Logger } from "../platform/logger.ts";
import { remoteAddressKey } from "../platform/remote-address.ts";
import type { Authenticate } from "../modules/user/index.ts";
import { routeNotificationHttp } from "../modules/notification/index.ts";
import { handleCors } from "./cors.ts";
import { sendHomePage } from "./home-page.ts";
import { serveConsole } from "../console/serve.ts";
import { HealthMonitor, createHealthService, type Probe } from "./health.ts";
import { accessLogInterceptor } from "./interceptors/access-log.ts";
import { auditContextInterceptor } from "./interceptors/audit-context.ts";
import { authInterceptor } from "./interceptors/auth.ts";
import { deadlineInterceptor } from "./interceptors/deadline.ts";
import { drainingInterceptor } from "./interceptors/draining.ts";
import { errorMappingInterceptor } from "./interceptors/error-mapping.ts";
import { metricsInterceptor } from "./interceptors/metrics.ts";
import { validationInterceptor } from "./interceptors/validation.ts";
import { tracingInterceptor } from "./interceptors/tracing.ts";
import { activeTracing } from "../platform/tracing.ts";
import { fieldMaskInterceptor } from "./interceptors/field-masks.ts";
import { rpcAdapter } from "./rpc-adapter.ts";
import { DualProtocolListener } from "./listener.ts";
import { certificateCaller, peerCallerKey } from "./peer-identity.ts";
import { TlsListener } from "./tls-listener.ts";
import type { ServerMetrics } from "./metrics-endpoint.ts";
import { ReflectionIndex, createReflectionV1, createReflectionV1Alpha } from "./reflection.ts";
import { API_SERVICES, EMPTY_IMPLS, apiRoutes, type ApiImpls } from "./services.ts";

export interface ServerOptions {
  config: Pick<Config, "host" | "port" | "corsOrigins" | "healthIntervalMs" | "shutdownGraceMs" | "headersTimeoutMs" | "idleTimeoutMs" | "tls">;
  log: Logger;
  /** Dependency checks behind grpc.health.v1 (e.g. postgres, redis). */
  probes: Record<string, Probe>;
  impls?: ApiImpls;
  /** Resolves bearer credentials for the auth interceptor (required: no server runs without authentication). */
  authenticate: Authenticate;
  /** RPC metrics (outermost interceptor) and `GET /metrics`; without it neither exists. */
  metrics?: ServerMetrics;
  /** Largest accepted request message; bigger ones get RESOURCE_EXHAUSTED. */
  readMaxBytes?: number;
}

export interface RunningServer {
  readonly port: number;
  readonly health: HealthMonitor;
  /** Re-reads the TLS certificate files for new connections (SIGHUP); false when nothing changed or TLS is off. */
  reloadTls(): boolean;
  /** Graceful: NOT_SERVING, stop accepting, finish in-flight calls (up to the grace period), close. */
  close(): Promise<void>;
}

/** Every service the server exposes, including health and reflection (what `grpcurl list` shows). */
export const ALL_SERVICES: readonly DescService[] = [...API_SERVICES, Health, ReflectionV1, ReflectionV1Alpha];

/** Builds the HTTP handler shared by gRPC, gRPC-Web and Connect. */
export function buildHandler(opts: ServerOptions, health: HealthMonitor, isDraining: () => boolean = () => false) {
  const reflection = new ReflectionIndex(ALL_SERVICES);
  const routes = (router: ConnectRouter) => {
    for (const [service, impl] of apiRoutes(opts.impls ?? EMPTY_IMPLS)) router.service(service, impl as never);
    router.service(Health, createHealthService(health));
    router.service(ReflectionV1, createReflectionV1(reflection));
    router.service(ReflectionV1Alpha, createReflectionV1Alpha(reflection));
  };
  const adapter = rpcAdapter({
    log: opts.log,
    routes,
    // Tracing outermost (when on) so its span covers the whole call, metrics and logs included.
    interceptors: [...tracingInterceptors(), ...(opts.metrics ? [metricsInterceptor(opts.metrics.observe)] : []), accessLogInterceptor(opts.log), drainingInterceptor(isDraining), deadlineInterceptor(), authInterceptor(opts.authenticate, opts.log), auditContextInterceptor(), fieldMaskInterceptor(), validationInterceptor(), errorMappingInterceptor(opts.log)],
    // The TCP peer, for login throttling and anonymised activity logs (see platform/remote-address.ts).
    // The verified client certificate's service identity (mutual TLS), read from the connection's socket.
    contextValues: (req) =>
      createContextValues()
        .set(remoteAddressKey, req.socket?.remoteAddress)
        .set(peerCallerKey, certificateCaller((req as Http2ServerRequest).stream?.session?.socket ?? req.socket, opts.config.tls?.serviceCerts ?? [])),
    readMaxBytes: opts.readMaxBytes ?? 4 * 1024 * 1024,
    // Strict protobuf JSON (its default; connect-es relaxes it): an unknown field or enum name is INVALID_ARGUMENT
    // naming it, instead of being dropped or read as the zero value. Invalid UTF-8 in a JSON body is refused too
    // (connect-es would replace it with U+FFFD); `textDecoder` is honoured by connect-es though not in its type.
    jsonOptions: { ignoreUnknownFields: false, textDecoder: new TextDecoder("utf-8", { fatal: true }) } as { ignoreUnknownFields: boolean },
    grpc: true,
    grpcWeb: true,
    connect: true,
    fallback: (req, res) => plainHttp(health, req as IncomingMessage, res as ServerResponse, opts.metrics),
  });
  return (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
    if (handleCors(opts.config.corsOrigins, req as IncomingMessage, res as ServerResponse)) return;
    // Tracking pixel, click redirect and unsubscribe links of emails and pushes (/t/…, /unsubscribe/…; never RPC paths).
    if (routeNotificationHttp(opts.impls?.notification, req as IncomingMessage, res as ServerResponse)) return;
    adapter(req as IncomingMessage, res as ServerResponse);
  };
}

/** The tracing interceptor when tracing is on (platform/tracing.ts), else nothing: off costs no call. */
function tracingInterceptors() {
  const otel = activeTracing();
  return otel ? [tracingInterceptor(otel)] : [];
}

/** Plain HTTP endpoints next to the RPCs: liveness/readiness for load balancers, Prometheus metrics, the console, and 404. */
function plainHttp(health: HealthMonitor, req: IncomingMessage, res: ServerResponse, metrics?: ServerMetrics): void {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method === "GET" && path === "/metrics" && metrics) return metrics.handle(req, res);
  if (req.method === "GET" && path === "/") {
    const links = [{ href: "/console/", label: "Operator console (staff)" }, { href: "/healthz", label: "Health" }, ...(metrics ? [{ href: "/metrics", label: "Prometheus metrics" }] : [])];
    return sendHomePage(res, links, req.headers.host ?? "localhost");
  }
  if (serveConsole(req, res, path)) return;
  if (req.method === "GET" && path === "/healthz") {
    const serving = health.failing.length === 0;
    res.writeHead(serving ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: serving ? "SERVING" : "NOT_SERVING", failing: health.failing }));
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found");
}

/** Starts the API server on one port for all three protocols. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const health = new HealthMonitor({ probes: opts.probes, services: ALL_SERVICES.map((s) => s.typeName), log: opts.log });
  await health.start(opts.config.healthIntervalMs);
  // The handler refuses new calls once the listener drains (SIGTERM); the listener is built after the handler.
  const handler = buildHandler(opts, health, () => listener.draining);
  const tls = opts.config.tls;
  const listener: DualProtocolListener | TlsListener = tls
    ? new TlsListener(tls, handler, opts.log)
    : new DualProtocolListener(handler, { headersTimeoutMs: opts.config.headersTimeoutMs, idleTimeoutMs: opts.config.idleTimeoutMs });
  const port = await listener.listen(opts.config.port, opts.config.host);
  opts.log.info({ port, host: opts.config.host, tls: tls ? (tls.clientCaFile ? `mutual (${tls.clientCert})` : "on") : "off" }, "listening (gRPC, gRPC-Web, Connect)");
  return {
    port,
    health,
    reloadTls: () => (listener instanceof TlsListener ? listener.reload("SIGHUP") : false),
    async close() {
      health.shutdown();
      await listener.close(opts.config.shutdownGraceMs);
      health.stop();
    },
  };
}
