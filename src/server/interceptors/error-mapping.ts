import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { DomainError, type DomainErrorKind, RateLimitedError, InvalidInputError, dependencyFailure } from "../../platform/errors.ts";
import type { Logger } from "../../platform/logger.ts";
import { requestLoggerKey } from "../context.ts";

const CODES: Record<DomainErrorKind, Code> = {
  not_found: Code.NotFound,
  conflict: Code.AlreadyExists,
  invalid_input: Code.InvalidArgument,
  permission: Code.PermissionDenied,
  unauthenticated: Code.Unauthenticated,
  precondition: Code.FailedPrecondition,
  rate_limited: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
};

/**
 * Maps what handlers throw to what callers see. Domain errors keep their (safe) message and get
 * their code; ConnectErrors pass through; anything else is logged with its stack and becomes
 * INTERNAL with a generic message, so no stack trace or SQL ever reaches a caller.
 */
export function toConnectError(e: unknown, log: Logger): ConnectError {
  if (e instanceof ConnectError) {
    // connect-node raises these itself (deadline, cancellation, malformed input); they are safe.
    return e;
  }
  if (e instanceof DomainError) {
    const err = new ConnectError(e.message, CODES[e.kind], undefined, undefined, e);
    if (e instanceof RateLimitedError) err.metadata.set("retry-after", String(Math.ceil(e.retryAfterMs / 1000)));
    if (e instanceof InvalidInputError && e.field) err.metadata.set("x-invalid-field", e.field);
    return err;
  }
  if (e instanceof Error && e.name === "AbortError") return new ConnectError("operation was aborted", Code.Canceled);
  // PostgreSQL or Redis down (refused, connection lost, shutting down): retryable, and not a bug of ours. The outage
  // itself is logged once by the process's DependencyLog (platform/dependency-log.ts), not once per call.
  const dependency = dependencyFailure(e);
  if (dependency) {
    log.debug({ dependency, err: (e as Error).message }, "dependency unavailable");
    return new ConnectError(`${dependency === "postgres" ? "database" : "cache"} temporarily unavailable; retry later`, Code.Unavailable, undefined, undefined, e);
  }
  // The client went away mid-stream (closed the connection without ending the call): not our fault.
  if (e instanceof Error && (e as NodeJS.ErrnoException).code === "ERR_STREAM_PREMATURE_CLOSE") {
    return new ConnectError("client closed the stream", Code.Canceled);
  }
  log.error({ err: e }, "unexpected error in handler");
  return new ConnectError("internal error", Code.Internal, undefined, undefined, e);
}

/** Innermost interceptor: error mapping for unary and streaming calls. */
export function errorMappingInterceptor(rootLog: Logger): Interceptor {
  return (next) => async (req) => {
    const log = req.contextValues.get(requestLoggerKey) ?? rootLog;
    // Once the call's signal fired (deadline passed, caller gone), whatever the handler throws is the consequence of
    // its work being cancelled (a statement cancelled by the pg client): the caller gets the signal's reason.
    const map = (e: unknown) => (req.signal.aborted ? ConnectError.from(req.signal.reason) : toConnectError(e, log));
    try {
      const res = await next(req);
      if (!res.stream) return res;
      const inner = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* inner;
          } catch (e) {
            throw map(e);
          }
        })(),
      };
    } catch (e) {
      throw map(e);
    }
  };
}
