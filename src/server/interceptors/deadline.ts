/**
 * Deadlines and cancellation, in one place for every RPC.
 *
 * connect-es turns the caller's deadline (`grpc-timeout`, `connect-timeout-ms`) and its going away into the call's
 * abort signal, but nothing stops a unary handler that ignores the signal: it ran to the end and answered OK long
 * after the caller's deadline. Here:
 * - a call whose signal already fired is not started;
 * - the call runs with its signal as the request signal (platform/request-signal.ts), which the PostgreSQL client
 *   reads: a statement still running when the signal fires is cancelled on the server (platform/pg-client.ts);
 * - the caller is answered at the deadline with DEADLINE_EXCEEDED (CANCELED when it went away), whatever the handler
 *   still awaits: a Redis command or a lock wait is abandoned, its late result ignored;
 * - a handler that finishes just after the deadline still answers DEADLINE_EXCEEDED, as gRPC clients expect.
 *
 * The data layer gets a signal of its own, forwarded from the call's only until the call is answered: connect-node
 * also aborts the call's signal when a finished call's connection or stream closes, and work a handler leaves
 * running after answering (a fire-and-forget write) must not be cancelled then.
 */
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { runWithSignal } from "../../platform/request-signal.ts";

export function deadlineInterceptor(): Interceptor {
  return (next) => async (req) => {
    const signal = req.signal;
    if (signal.aborted) throw ConnectError.from(signal.reason);
    const scope = new AbortController();
    const forward = () => scope.abort(signal.reason);
    signal.addEventListener("abort", forward, { once: true }); // first: the statements are cancelled, then answered
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(ConnectError.from(signal.reason));
      signal.addEventListener("abort", onAbort, { once: true });
    });
    const call = runWithSignal(scope.signal, () => next(req));
    try {
      const res = await Promise.race([call, aborted]);
      if (signal.aborted) throw ConnectError.from(signal.reason);
      return res;
    } finally {
      signal.removeEventListener("abort", forward);
      signal.removeEventListener("abort", onAbort!);
      // The abandoned handler's own outcome is settled by nobody else; it must not become an unhandled rejection.
      aborted.catch(() => undefined);
      call.catch(() => undefined);
    }
  };
}
