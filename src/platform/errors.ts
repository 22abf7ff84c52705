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
