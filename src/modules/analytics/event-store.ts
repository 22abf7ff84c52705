/**
 * Durable storage of activity events and of keyed-batch progress, directly on `pg`: rows go in with COPY
 * (the fastest path PostgreSQL has; a partitioned parent routes each row to its month, or to DEFAULT), and a batch's
 * progress row is updated in the same transaction, so what the progress says is exactly what is stored.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { ConflictError } from "../../platform/errors.ts";
import { copyLine } from "./copy-text.ts";
import type { ActivityRow } from "./event-input.ts";

/** Rejections kept per batch (in the answer and in its progress row); the count covers all of them. */
export const MAX_REPORTED_REJECTIONS = 1000;
/** How long a batch key is remembered. */
export const BATCH_KEY_TTL_HOURS = 24;

export interface Rejection {
  readonly index: number;
  readonly reason: string;
}

/** What is durably known of a keyed batch. */
export interface BatchState {
  readonly id: string;
  readonly processedCount: number;
  readonly acceptedCount: number;
  readonly rejectedCount: number;
  readonly rejected: readonly Rejection[];
  readonly completed: boolean;
}

/** Advance of a keyed batch written with a set of rows: valid only if the batch is still at `fromProcessed`. */
export interface BatchAdvance {
  readonly batchId: string;
  readonly fromProcessed: number;
  readonly toProcessed: number;
  readonly acceptedCount: number;
  readonly rejectedCount: number;
  readonly rejected: readonly Rejection[];
}

export const ACTIVITY_COLUMNS = [
  "user_id", "session_id", "action_type", "movie_id", "ip_address", "user_agent", "referer", "source", "metadata", "timestamp",
] as const;

/** The COPY text of some rows, columns in ACTIVITY_COLUMNS order. */
export function activityCopyText(rows: readonly ActivityRow[]): string {
  let text = "";
  for (const r of rows) {
    text += copyLine([r.userId, r.sessionId, r.actionType, r.movieId, r.ipAddress, r.userAgent, r.referer, r.source, r.metadata, r.timestamp.toISOString()]);
  }
  return text;
}

const COPY_SQL = `copy user_activity_logs (${ACTIVITY_COLUMNS.map((c) => `"${c}"`).join(", ")}) from stdin`;

/** Streams `text` into PostgreSQL with COPY on `client`. */
export async function copyText(client: pg.PoolClient | pg.Client, sql: string, text: string): Promise<void> {
  if (text === "") return;
  await pipeline(Readable.from([Buffer.from(text)]), client.query(copyFrom(sql)));
}

export interface EventStore {
  /** Stores `rows` (all or none); with `advance`, moves the batch's progress in the same transaction. */
  write(rows: readonly ActivityRow[], advance?: BatchAdvance): Promise<void>;
  /** Which of these movie ids exist. */
  existingMovies(ids: readonly string[]): Promise<Set<string>>;
  /** The batch's state, created empty if the key is new (or older than BATCH_KEY_TTL_HOURS, which starts afresh). */
  openBatch(callerKey: string, batchKey: string): Promise<BatchState>;
  /** Marks the batch finished at `processed` messages. */
  completeBatch(batchId: string, processed: number): Promise<void>;
}

/**
 * The store over a `pg` pool: the ORM's own (`orm.em.getConnection().getNativeClient()`), so ingestion shares the
 * process's connection budget (and its pool metrics) instead of opening more connections.
 */
export function createEventStore(getPool: () => Promise<pg.Pool>): EventStore {
  return {
    async write(rows, advance) {
      const client = await (await getPool()).connect();
      try {
        if (!advance) {
          await copyText(client, COPY_SQL, activityCopyText(rows)); // one COPY is atomic by itself
          return;
        }
        await client.query("begin");
        const locked = await client.query<{ processed_count: number }>(
          "select processed_count from analytics_ingest_batches where id = $1 for update",
          [advance.batchId],
        );
        if (locked.rows[0]?.processed_count !== advance.fromProcessed) {
          throw new ConflictError("this batch_key is being written by another call; retry once it has finished");
        }
        await copyText(client, COPY_SQL, activityCopyText(rows));
        await client.query(
          `update analytics_ingest_batches
              set processed_count = $2, accepted_count = $3, rejected_count = $4, rejected = $5::jsonb, updated_at = now()
            where id = $1`,
          [advance.batchId, advance.toProcessed, advance.acceptedCount, advance.rejectedCount, JSON.stringify(advance.rejected)],
        );
        await client.query("commit");
      } catch (e) {
        if (advance) await client.query("rollback").catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },

    async existingMovies(ids) {
      if (ids.length === 0) return new Set();
      const res = await (await getPool()).query<{ id: string }>("select id::text as id from movies where id = any($1::bigint[])", [ids]);
      return new Set(res.rows.map((r) => r.id));
    },

    async openBatch(callerKey, batchKey) {
      const pool = await getPool();
      await pool.query(
        `delete from analytics_ingest_batches
          where caller_key = $1 and batch_key = $2 and created_at < now() - make_interval(hours => $3)`,
        [callerKey, batchKey, BATCH_KEY_TTL_HOURS],
      );
      await pool.query(
        "insert into analytics_ingest_batches (caller_key, batch_key) values ($1, $2) on conflict (caller_key, batch_key) do nothing",
        [callerKey, batchKey],
      );
      const res = await pool.query<{
        id: string; processed_count: number; accepted_count: number; rejected_count: number; rejected: Rejection[]; completed_at: Date | null;
      }>(
        `select id::text as id, processed_count, accepted_count, rejected_count, rejected, completed_at
           from analytics_ingest_batches where caller_key = $1 and batch_key = $2`,
        [callerKey, batchKey],
      );
      const row = res.rows[0];
      if (!row) throw new ConflictError("this batch_key was reset by another call; retry");
      return {
        id: row.id,
        processedCount: row.processed_count,
        acceptedCount: row.accepted_count,
        rejectedCount: row.rejected_count,
        rejected: row.rejected,
        completed: row.completed_at !== null,
      };
    },

    async completeBatch(batchId, processed) {
      await (await getPool()).query("update analytics_ingest_batches set completed_at = now(), updated_at = now() where id = $1 and processed_count = $2", [
        batchId,
        processed,
      ]);
    },
  };
}
