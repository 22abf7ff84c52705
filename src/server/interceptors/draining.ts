import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * During graceful shutdown every call that reaches the server is answered UNAVAILABLE ("retry elsewhere"), which
 * gRPC and Connect clients treat as retryable; calls already running are not affected. Placed after the access log
 * so the refusals are logged, before authentication so they cost no database lookup.
 */
export function drainingInterceptor(isDraining: () => boolean): Interceptor {
  return (next) => async (req) => {
    if (isDraining()) throw new ConnectError("server is shutting down; retry on another instance", Code.Unavailable);
    return next(req);
  };
}
