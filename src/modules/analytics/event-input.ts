/**
 * One activity event as the ingestion receives it (already out of protobuf), and its validation into the row that
 * is stored. Per-event rules live here rather than in the validation interceptor because TrackEvents reports an
 * invalid event by its index instead of failing the stream; the rules mirror those of `analytics.proto` and the
 * reasons read like protovalidate's (`event.session_id: …`).
 */
import { ACTION_TYPES, ACTIVITY_SOURCES, type ActionType, type ActivitySource } from "./entities/index.ts";

/** An event as sent: enums already named (undefined when the number was not a defined value). */
export interface EventInput {
  readonly sessionId: string;
  readonly actionType: ActionType | undefined;
  /** Decimal id, or "" for none. */
  readonly movieId: string;
  readonly referer: string;
  readonly source: ActivitySource | undefined;
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
  readonly occurredAt: Date | undefined;
}

/** Where the request came from, resolved once per call (see client-address.ts). */
export interface RequestOrigin {
  /** Signed-in user, or null for events forwarded anonymously. */
  readonly userId: string | null;
  /** Already anonymised address (a valid `inet`). */
  readonly ipAddress: string;
  readonly userAgent: string;
}

/** A row of `user_activity_logs`, ready to write. */
export interface ActivityRow {
  readonly userId: string | null;
  readonly sessionId: string;
  readonly actionType: ActionType;
  readonly movieId: string | null;
  readonly ipAddress: string;
  readonly userAgent: string;
  readonly referer: string | null;
  readonly source: ActivitySource;
  /** Serialised JSON object. */
  readonly metadata: string;
  readonly timestamp: Date;
}

/** Largest serialised metadata accepted (the proto's documented 8 KiB). */
export const MAX_METADATA_BYTES = 8 * 1024;
/** Deepest nesting of metadata objects/arrays accepted: deeper documents are a sign of abuse, not analytics. */
export const MAX_METADATA_DEPTH = 8;
/** Client times older than this are replaced by the server's time (the proto's documented 7 days). */
export const MAX_EVENT_AGE_MS = 7 * 86_400_000;

const MOVIE_ID = /^[1-9][0-9]{0,18}$/;
const BIGINT_MAX = 9_223_372_036_854_775_807n;
const ACTIONS = new Set<string>(ACTION_TYPES);
const SOURCES = new Set<string>(ACTIVITY_SOURCES);

/** Depth of a JSON value (a scalar is 0, `{}` is 1); stops counting past `limit`. */
function depthOf(value: unknown, limit: number): number {
  if (value === null || typeof value !== "object") return 0;
  if (limit <= 0) return 1;
  let deepest = 0;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    const d = depthOf(child, limit - 1);
    if (d > deepest) deepest = d;
  }
  return 1 + deepest;
}

/**
 * Checks one event and builds its row, or says why it is refused. `now` is the server's time (also used for
 * events without a time, or whose time is in the future or too old).
 */
export function toActivityRow(event: EventInput | undefined, origin: RequestOrigin, now: Date): ActivityRow | { reason: string } {
  if (event === undefined) return { reason: "event: value is required" };
  const sessionLength = [...event.sessionId].length;
  if (sessionLength < 1) return { reason: "event.session_id: value length must be at least 1 characters" };
  if (sessionLength > 100) return { reason: "event.session_id: value length must be at most 100 characters" };
  if (event.actionType === undefined || !ACTIONS.has(event.actionType)) {
    return { reason: "event.action_type: value must be one of the defined action types" };
  }
  if (event.source === undefined || !SOURCES.has(event.source)) return { reason: "event.source: value must be one of the defined sources" };
  if (event.movieId !== "" && (!MOVIE_ID.test(event.movieId) || BigInt(event.movieId) > BIGINT_MAX)) {
    return { reason: "event.movie_id: value must be a decimal movie id" };
  }
  if ([...event.referer].length > 500) return { reason: "event.referer: value length must be at most 500 characters" };
  let metadata = "{}";
  if (event.metadata !== undefined) {
    if (depthOf(event.metadata, MAX_METADATA_DEPTH + 1) > MAX_METADATA_DEPTH) {
      return { reason: `event.metadata: nesting must be at most ${MAX_METADATA_DEPTH} levels deep` };
    }
    metadata = JSON.stringify(event.metadata);
    if (Buffer.byteLength(metadata) > MAX_METADATA_BYTES) return { reason: `event.metadata: must be at most ${MAX_METADATA_BYTES} bytes once serialised` };
    // PostgreSQL's jsonb refuses the NUL character; refuse it here so one event cannot fail its whole batch.
    if (metadata.includes("\\u0000")) return { reason: "event.metadata: must not contain the NUL character" };
  }
  if (event.sessionId.includes("\0") || event.referer.includes("\0")) return { reason: "event: text must not contain the NUL character" };
  const at = event.occurredAt;
  const timestamp = at === undefined || Number.isNaN(at.getTime()) || at > now || now.getTime() - at.getTime() > MAX_EVENT_AGE_MS ? now : at;
  return {
    userId: origin.userId,
    sessionId: event.sessionId,
    actionType: event.actionType,
    movieId: event.movieId === "" ? null : event.movieId,
    ipAddress: origin.ipAddress,
    userAgent: origin.userAgent,
    referer: event.referer === "" ? null : event.referer,
    source: event.source,
    metadata,
    timestamp,
  };
}
