/**
 * `movierec/client`: typed clients of the six services for Node programs (internal services, scripts, tests).
 *
 *   const api = createMovierecClient({ baseUrl: "http://movierec:8080", serviceToken: process.env.MOVIEREC_TOKEN });
 *   const { movies } = await api.catalog.searchMovies({ query: "alien" });
 *
 * - protocol: "grpc" (default; HTTP/2), "connect" (the Connect protocol, binary, over HTTP/1.1) or "grpc-web";
 * - auth: `token` (a user's access token from Login) or `serviceToken` (a SERVICE_TOKENS secret) is sent on every
 *   call as the header `authorization: Bearer <token>`, exactly what grpcurl -H or curl send;
 * - deadlines: every call gets `timeoutMs` (default 10 s) unless the call passes its own; the server sees it
 *   as grpc-timeout / connect-timeout-ms and stops work past it (DEADLINE_EXCEEDED);
 * - retries: a unary call of a read method (Get*, List*, Search*, BatchGet*, or any method whose proto
 *   declares idempotency_level) that fails with UNAVAILABLE is retried up to `retries` times (default 2),
 *   with exponential backoff and jitter; writes are never retried (the caller decides, e.g. with request_id).
 */
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { AnalyticsService } from "../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { NotificationService } from "../../gen/movierec/notification/v1/notification_service_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { ExperimentService } from "../../gen/movierec/recommendation/v1/experiment_service_pb.js";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";

export type MovierecProtocol = "grpc" | "connect" | "grpc-web";

export interface MovierecClientOptions {
  /** e.g. "http://localhost:8080" (or https://… behind TLS). */
  readonly baseUrl: string;
  /** A user's access token (from UserService.Login). */
  readonly token?: string;
  /** An internal service's secret from SERVICE_TOKENS (its scopes decide what it may call). */
  readonly serviceToken?: string;
  /** Default "grpc". */
  readonly protocol?: MovierecProtocol;
  /** Deadline of every call that does not set its own, in ms (default 10,000; 0 = none). */
  readonly timeoutMs?: number;
  /** Retries of UNAVAILABLE for idempotent unary methods (default 2). */
  readonly retries?: number;
  /** First backoff in ms, doubled each retry, with full jitter (default 100). */
  readonly backoffMs?: number;
  /** More interceptors, run after the client's own (auth, retries). */
  readonly interceptors?: readonly Interceptor[];
  /**
   * TLS for an `https://` baseUrl: the CA that signed the server's certificate (PEM; default: the system's), and a
   * client certificate and key for mutual TLS, where the certificate itself identifies the service (SERVICE_CERTS).
   */
  readonly tls?: { readonly ca?: string | Buffer; readonly cert?: string | Buffer; readonly key?: string | Buffer };
}

export interface MovierecClient {
  readonly user: Client<typeof UserService>;
  readonly catalog: Client<typeof CatalogService>;
  readonly recommendation: Client<typeof RecommendationService>;
  readonly experiment: Client<typeof ExperimentService>;
  readonly notification: Client<typeof NotificationService>;
  readonly analytics: Client<typeof AnalyticsService>;
  readonly transport: Transport;
}

const READ_METHOD = /^(Get|List|Search|BatchGet)[A-Z]/;

/** Whether a failed call of this method may be sent again without changing anything. */
export function isIdempotent(method: { name: string; idempotency: MethodOptions_IdempotencyLevel }): boolean {
  return method.idempotency !== MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN || READ_METHOD.test(method.name);
}

function authInterceptor(bearer: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${bearer}`);
    return next(req);
  };
}

function retryInterceptor(retries: number, backoffMs: number): Interceptor {
  return (next) => async (req) => {
    if (req.stream || !isIdempotent(req.method)) return next(req);
    for (let attempt = 0; ; attempt++) {
      try {
        return await next(req);
      } catch (e) {
        const err = ConnectError.from(e);
        if (err.code !== Code.Unavailable || attempt >= retries || req.signal.aborted) throw e;
        // Full jitter: callers that failed together do not come back together.
        await new Promise((r) => setTimeout(r, Math.random() * backoffMs * 2 ** attempt));
      }
    }
  };
}

/** Typed clients of the six services over one transport. */
export function createMovierecClient(opts: MovierecClientOptions): MovierecClient {
  if (opts.token && opts.serviceToken) throw new Error("pass token or serviceToken, not both");
  const bearer = opts.token ?? opts.serviceToken;
  const interceptors: Interceptor[] = [retryInterceptor(opts.retries ?? 2, opts.backoffMs ?? 100)];
  if (bearer) interceptors.push(authInterceptor(bearer));
  interceptors.push(...(opts.interceptors ?? []));
  const nodeOptions = opts.tls ? { ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key } : undefined;
  const common = { baseUrl: opts.baseUrl, interceptors, defaultTimeoutMs: opts.timeoutMs === 0 ? undefined : (opts.timeoutMs ?? 10_000), nodeOptions };
  const protocol = opts.protocol ?? "grpc";
  const transport =
    protocol === "grpc"
      ? createGrpcTransport(common)
      : protocol === "connect"
        ? createConnectTransport({ ...common, httpVersion: "1.1" })
        : protocol === "grpc-web"
          ? createGrpcWebTransport({ ...common, httpVersion: "1.1" })
          : (() => {
              throw new Error(`unknown protocol ${JSON.stringify(protocol)}: grpc, connect or grpc-web`);
            })();
  return {
    user: createClient(UserService, transport),
    catalog: createClient(CatalogService, transport),
    recommendation: createClient(RecommendationService, transport),
    experiment: createClient(ExperimentService, transport),
    notification: createClient(NotificationService, transport),
    analytics: createClient(AnalyticsService, transport),
    transport,
  };
}
