/**
 * Domain errors. Domain code throws these; one server interceptor maps them to gRPC codes
 * (see src/server/interceptors/error-mapping.ts). Anything else becomes INTERNAL.
 */

/** Base class: `publicMessage` is safe to send to the caller. */
export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export type DomainErrorKind =
  | "not_found"
  | "conflict"
  | "invalid_input"
  | "permission"
  | "unauthenticated"
  | "precondition"
  | "rate_limited"
  | "unavailable";

export class NotFoundError extends DomainError {
  readonly kind = "not_found";
  constructor(what: string, id?: string | number) {
    super(id === undefined ? `${what} not found` : `${what} ${id} not found`);
  }
}

export class ConflictError extends DomainError {
  readonly kind = "conflict";
}

/** Invalid input that protovalidate rules cannot express; `field` names the offending field. */
export class InvalidInputError extends DomainError {
  readonly kind = "invalid_input";
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(field ? `${field}: ${message}` : message);
    this.field = field;
  }
}

export class PermissionError extends DomainError {
  readonly kind = "permission";
}

export class UnauthenticatedError extends DomainError {
  readonly kind = "unauthenticated";
}

export class PreconditionError extends DomainError {
  readonly kind = "precondition";
}

export class RateLimitedError extends DomainError {
  readonly kind = "rate_limited";
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** A dependency (database, cache, provider) is down; the call may be retried. */
export class UnavailableError extends DomainError {
  readonly kind = "unavailable";
}

/** The dependencies whose connection failures are answered UNAVAILABLE. */
export type Dependency = "postgres" | "redis";

// Socket-level failures: the peer refused, reset, vanished or could not be resolved. A raw socket error does not say
// whose socket it was, so it counts only once tagged by the client that owns the socket (`tagDependencyFailure`).
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNABORTED"]);
// PostgreSQL SQLSTATEs meaning "the server cannot serve you now": class 08 (connection exception), admin or crash
// shutdown, cannot connect now (starting up), too many connections.
const PG_UNAVAILABLE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;
// pg and pg-pool report a lost or unobtainable connection by message only.
const PG_MESSAGES = /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed and is not queryable)/;
// ioredis: commands refused while the connection is down (no offline queue), or given up after the retry limit.
const REDIS_MESSAGES = /^(Stream isn't writeable|Connection is closed|Reached the max retries per request limit)/;

type ErrorShape = { name?: unknown; message?: unknown; code?: unknown; sqlState?: unknown; cause?: unknown; errors?: unknown; dependency?: unknown };

/** Whether `e` is a socket-level failure (refused, reset, timed out…) whoever's socket it was. */
export function isSocketFailure(e: unknown): boolean {
  const code = (e as ErrorShape | null)?.code;
  if (typeof code === "string" && SOCKET_CODES.has(code)) return true;
  const errors = (e as ErrorShape | null)?.errors; // Node's AggregateError when every address of a host refused
  return Array.isArray(errors) && errors.length > 0 && errors.every(isSocketFailure);
}

/** Marks `e` as `dependency`'s connection failure (a plain property, so it survives MikroORM copying the error). */
export function tagDependencyFailure<E>(e: E, dependency: Dependency): E {
  if (e !== null && typeof e === "object" && Object.isExtensible(e)) (e as ErrorShape).dependency = dependency;
  return e;
}

/**
 * Which dependency's connection failure `e` is, if it is one: ioredis's refusals, pg's and pg-pool's lost
 * connections and SQLSTATEs, socket errors tagged by their client, and MikroORM's wrappings of these (its exceptions
 * copy the driver error's fields; `cause` chains and AggregateErrors are followed too). The one place that knows
 * these shapes: the error mapping answers them UNAVAILABLE, the workers and the dependency log report them as a
 * state change of the dependency rather than as failures of their own.
 */
export function dependencyFailure(e: unknown, depth = 0): Dependency | undefined {
  if (depth > 5 || e === null || typeof e !== "object") return undefined;
  const err = e as ErrorShape;
  if (err.dependency === "postgres" || err.dependency === "redis") return err.dependency;
  const message = typeof err.message === "string" ? err.message : "";
  if (err.name === "MaxRetriesPerRequestError" || REDIS_MESSAGES.test(message)) return "redis";
  if (PG_MESSAGES.test(message)) return "postgres";
  const sqlState = typeof err.sqlState === "string" ? err.sqlState : typeof err.code === "string" && /^[0-9A-Z]{5}$/.test(err.code) && !SOCKET_CODES.has(err.code) ? err.code : "";
  if (PG_UNAVAILABLE.test(sqlState)) return "postgres";
  for (const inner of [err.cause, ...(Array.isArray(err.errors) ? err.errors : [])]) {
    const found = dependencyFailure(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}
