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

/** One served list, as buffered: its movie ids travel comma-joined and PostgreSQL expands them into rows. */
interface List {
  k: string;
  u: string | null;
  ms: string;
  s: string;
  a: string;
  e: string | null;
  v: string | null;
  t: string;
}

/** The key that makes a request's impressions idempotent: surface, caller and request id. */
export function requestKey(list: Pick<ServedList, "surface" | "userId" | "requestId">): string {
  return `${list.surface}:${list.userId ?? "anon"}:${list.requestId}`.slice(0, 200);
}

/**
 * One statement per batch: the lists travel as typed arrays (unnest), one element per list, and each list's movie
 * ids (bigint ids, so a comma-joined string is unambiguous) become its rows in PostgreSQL, position = order. Parsing
 * a JSON document of the same rows took several times as long in PostgreSQL, and one array element per row cost the
 * serving process more than the rest of recording (pg escapes every element; bench:serving --profile).
 * `onlyExisting` drops rows whose movie, user or experiment is gone.
 */
function insertSql(onlyExisting: boolean): string {
  const filter = onlyExisting
    ? `where exists (select 1 from movies mv where mv.id = x.m)
         and (r.u is null or exists (select 1 from users us where us.id = r.u))
         and (r.e is null or exists (select 1 from experiments ex where ex.id = r.e))`
    : "";
  return `insert into recommendation_impressions (request_key, user_id, movie_id, surface, algorithm, experiment_id, variant, position, shown_at)
    select r.k, r.u, x.m, r.s, r.a, r.e, r.v, (x.p - 1)::int, r.t
      from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::timestamptz[]) as r(k, u, ms, s, a, e, v, t)
      cross join lateral unnest(string_to_array(r.ms, ',')::bigint[]) with ordinality as x(m, p)
      ${filter}
    on conflict (request_key, position) do nothing`;
}

export function createImpressionRecorder(deps: { pool: () => Promise<pg.Pool>; log: Logger; flushMs: number; maxBuffer: number }): ImpressionRecorder {
  let buffer: List[] = [];
  let rows = 0;
  let writing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => void flush(), deps.flushMs);
  timer.unref();

  async function write(lists: List[]): Promise<void> {
    const pool = await deps.pool();
    const columns = [lists.map((r) => r.k), lists.map((r) => r.u), lists.map((r) => r.ms), lists.map((r) => r.s), lists.map((r) => r.a), lists.map((r) => r.e), lists.map((r) => r.v), lists.map((r) => r.t)];
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
    const lists = buffer;
    const count = rows;
    buffer = [];
    rows = 0;
    // One write at a time, in order; a failed batch is logged and dropped (impressions are measurements, not state).
    writing = writing.then(() => write(lists)).catch((err: unknown) => deps.log.warn({ err: String(err), rows: count }, "impressions not written"));
    return writing;
  }

  return {
    record(list) {
      if (list.movieIds.length === 0 || list.requestId === "") return;
      const t = (list.shownAt ?? new Date()).toISOString();
      buffer.push({ k: requestKey(list), u: list.userId, ms: list.movieIds.join(","), s: list.surface, a: list.algorithm, e: list.experimentId ?? null, v: list.variant ?? null, t });
      rows += list.movieIds.length;
      if (rows >= deps.maxBuffer) void flush();
    },
    flush,
    get pending() {
      return rows;
    },
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
