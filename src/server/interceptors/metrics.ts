import { Code, type Interceptor } from "@connectrpc/connect";
import { observeCallEnd } from "./call-end.ts";

/** Receives every finished call: `/package.Service/Method`, the code in snake case ("ok", "not_found"), seconds. */
export type RpcObserver = (method: string, code: string, seconds: number) => void;

/** `Code.NotFound` → "not_found", as Prometheus labels and gRPC docs spell codes. */
const CODE_LABELS: Record<number, string> = Object.fromEntries(
  Object.entries(Code)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => [v as number, k.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase()]),
);
CODE_LABELS[0] = "ok";

/**
 * Outermost interceptor: times every call (streaming ones until their response ends) and hands method, code and
 * duration to `observe`, which must be cheap and synchronous: it runs on every request.
 */
export function metricsInterceptor(observe: RpcObserver): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const method = `/${req.service.typeName}/${req.method.name}`;
    const done = (code: number) => {
      try {
        observe(method, CODE_LABELS[code] ?? "unknown", (performance.now() - started) / 1000);
      } catch {
        // metrics never fail a call
      }
    };
    return observeCallEnd(next(req), done);
  };
}
