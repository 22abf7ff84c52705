import { Code, type Interceptor } from "@connectrpc/connect";
import type { Tracer } from "@opentelemetry/api";
import { observeCallEnd } from "./call-end.ts";

type OtelApi = typeof import("@opentelemetry/api");

/**
 * A SERVER span around every call, continuing the caller's W3C `traceparent` header when there is one; everything
 * the handler does (queries, Redis commands, jobs it enqueues) runs inside it and so joins the trace. Outermost, so
 * the span covers the whole call; added to the chain only when tracing is on (platform/tracing.ts).
 */
export function tracingInterceptor(otel: { api: OtelApi; tracer: Tracer }): Interceptor {
  const { api, tracer } = otel;
  const getter = {
    keys: (h: Headers) => [...h.keys()],
    get: (h: Headers, key: string) => h.get(key) ?? undefined,
  };
  return (next) => (req) => {
    const parent = api.propagation.extract(api.context.active(), req.header, getter);
    const span = tracer.startSpan(
      `${req.service.typeName}/${req.method.name}`,
      { kind: api.SpanKind.SERVER, attributes: { "rpc.system.name": "connectrpc", "rpc.method": `${req.service.typeName}/${req.method.name}` } },
      parent,
    );
    const done = (code: Code | 0) => {
      span.setAttribute("rpc.response.status_code", code === 0 ? "OK" : Code[code]);
      // Client mistakes (invalid argument, not found…) are the caller's; only server-side failures mark the span.
      if (code === Code.Internal || code === Code.Unknown || code === Code.DataLoss || code === Code.Unavailable || code === Code.DeadlineExceeded) {
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: Code[code] });
      }
      span.end();
    };
    return api.context.with(api.trace.setSpan(parent, span), () => observeCallEnd(next(req), done));
  };
}
