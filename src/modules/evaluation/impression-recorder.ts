/**
 * Impressions that were really shown: every list a user is served is recorded with its positions, algorithm and
 * experiment variant. Never a write per item, nor per request, on the request path: lists are appended to an
 * in-memory buffer and written in one statement per flush (every `flushMs`, or at once when `maxBuffer` rows wait),
 * the same batching the analytics ingest and RPC metrics use. `(request_key, position)` is UNIQUE and the insert
 * ignores conflicts, so a retried request (same request id) or a batch written twice records nothing twice.
 * The price of batching: a process killed hard loses at most one flush interval of impressions (close() flushes).
 */
import type pg from "pg";
import type { Logger } from "../../platform/logger.ts";
import type { Surface } from "./entities/index.ts";

export interface ServedList {
  surface: Surface;
  /** Null for anonymous callers (trending and similar lists are public). */
  userId: string | null;
  /** The request id (x-request-id): a retry with the same id is the same impression. */
  requestId: string;
  algorithm: string;
  experimentId?: string | null;
  variant?: string | null;
  movieIds: readonly string[];
  shownAt?: Date;
}

export interface ImpressionRecorder {
  /** Buffers the list (synchronous, no I/O). */
  record(list: ServedList): void;
  /** Writes everything buffered now; resolves when it is stored. */
  flush(): Promise<void>;
  /** Rows waiting to be written. */
  readonly pending: number;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
}

interface Row {
  k: string;
  u: string | null;
  m: string;
  s: string;
  a: string;
  e: string | null;
  v: string | null;
  p: number;
  t: string;
}

/** The key that makes a request's impressions idempotent: surface, caller and request id. */
export function requestKey(list: Pick<ServedList, "surface" | "userId" | "requestId">): string {
  return `${list.surface}:${list.userId ?? "anon"}:${list.requestId}`.slice(0, 200);
}

/**
 * One statement per batch: the rows travel as typed arrays (unnest) — parsing a JSON document of the same rows took
 * several times as long in PostgreSQL. `onlyExisting` drops rows whose movie, user or experiment is gone.
 */
function insertSql(onlyExisting: boolean): string {
  const filter = onlyExisting
    ? `where exists (select 1 from movies mv where mv.id = r.m)
         and (r.u is null or exists (select 1 from users us where us.id = r.u))
         and (r.e is null or exists (select 1 from experiments ex where ex.id = r.e))`
    : "";
  return `insert into recommendation_impressions (request_key, user_id, movie_id, surface, algorithm, experiment_id, variant, position, shown_at)
    select r.k, r.u, r.m, r.s, r.a, r.e, r.v, r.p, r.t
      from unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::int[], $9::timestamptz[]) as r(k, u, m, s, a, e, v, p, t)
      ${filter}
    on conflict (request_key, position) do nothing`;
}

export function createImpressionRecorder(deps: { pool: () => Promise<pg.Pool>; log: Logger; flushMs: number; maxBuffer: number }): ImpressionRecorder {
  let buffer: Row[] = [];
  let writing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => void flush(), deps.flushMs);
  timer.unref();

  async function write(rows: Row[]): Promise<void> {
    const pool = await deps.pool();
    const columns = [rows.map((r) => r.k), rows.map((r) => r.u), rows.map((r) => r.m), rows.map((r) => r.s), rows.map((r) => r.a), rows.map((r) => r.e), rows.map((r) => r.v), rows.map((r) => r.p), rows.map((r) => r.t)];
    try {
      await pool.query(insertSql(false), columns);
    } catch (err) {
      // A movie, user or experiment deleted since the list was served fails the foreign keys: write the batch again
      // without those rows rather than losing it. Rare, so the common path skips the existence checks (~20% of the
      // statement's time in a 100,000-row measurement).
      if ((err as { code?: string }).code !== "23503") throw err;
      await pool.query(insertSql(true), columns);
    }
  }

  function flush(): Promise<void> {
    if (buffer.length === 0) return writing;
    const rows = buffer;
    buffer = [];
    // One write at a time, in order; a failed batch is logged and dropped (impressions are measurements, not state).
    writing = writing.then(() => write(rows)).catch((err: unknown) => deps.log.warn({ err: String(err), rows: rows.length }, "impressions not written"));
    return writing;
  }

  return {
    record(list) {
      if (list.movieIds.length === 0 || list.requestId === "") return;
      const k = requestKey(list);
      const t = (list.shownAt ?? new Date()).toISOString();
      list.movieIds.forEach((m, p) =>
        buffer.push({ k, u: list.userId, m, s: list.surface, a: list.algorithm, e: list.experimentId ?? null, v: list.variant ?? null, p, t }),
      );
      if (buffer.length >= deps.maxBuffer) void flush();
    },
    flush,
    get pending() {
      return buffer.length;
    },
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
