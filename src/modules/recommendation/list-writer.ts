/**
 * The write path of scoring: one batch of users' lists replaces their previous ones in a single transaction on a
 * `pg` client of the ORM's pool (COPY is not reachable through the ORM's transaction). One row per (user, algorithm)
 * list (`user_recommendation_lists`, migration 0018) goes in with COPY, then the users' lists older than the ones
 * replaced are deleted: each (user, algorithm) holds its new list and the one it replaces (whose served ids stay
 * resolvable for a client still showing them, list-handles.ts). A reader sees the old lists or the new ones, never a
 * mix; a crash before COMMIT leaves the old ones.
 * Why lists and not the design's rows per item: 400 rows per user under 8 indexes made index maintenance 85% of batch
 * scoring (README, Performance: `bench:scoring`); a list is 4 rows per user under 2 small indexes.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { pgArray, type SqlExecutor } from "./pg-array.ts";
import { Float8CopyReader } from "./pg-binary-copy.ts";
import type { Float8Copier } from "./training-data.ts";


/** The lists of a batch: one per (user, algorithm), movie ids (as text) best first with their scores in [0, 1]. */
export interface ScoredList {
  userId: string;
  algorithm: string;
  movieIds: string[];
  scores: number[];
}

/** `?` placeholders (the ORM's style, used by the shared readers) as `$n` for `pg`; none of our SQL has a literal `?`. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * An Executor over a checked-out `pg` client (so it runs inside that client's transaction), which can also stream
 * float8 rows by binary COPY (what loadUserHistories reads a batch's interactions with).
 */
export function clientExecutor(client: pg.PoolClient): SqlExecutor & Float8Copier {
  return {
    async execute<T>(sql: string, params: unknown[] = []) {
      return (await client.query(numbered(sql), params)).rows as T;
    },
    async copyFloat8(sql: string, columns: number, onRow: (row: Float64Array) => void) {
      await pipeline(client.query(copyTo(sql)), new Float8CopyReader(columns, onRow).writable());
    },
  };
}

/** Runs `work` in a transaction on a client of `pool`; rolls back on any error. */
export async function inPgTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const out = await work(client);
    await client.query("commit");
    return out;
  } catch (e) {
    await client.query("rollback").catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/** Binary COPY framing (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format"). */
const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];
const INT8_OID = 20;
const FLOAT4_OID = 700;
/** PostgreSQL's epoch (2000-01-01T00:00:00Z) in Unix milliseconds: binary timestamptz is microseconds since it. */
const PG_EPOCH_MS = 946_684_800_000;
const textEncoder = new TextEncoder();

/**
 * The COPY of the lists in binary format: ids as int8, scores as float4 — the float32 of each score, which is what
 * the text format's nine digits gave the column (they round-trip a float4 exactly) — without formatting a number
 * on this side or parsing one on PostgreSQL's (`toPrecision(9)` and float4in/int8in over 800 numbers per user were
 * most of the write step). Ids are PostgreSQL's own `id::text`.
 */
export function copyBinary(lists: readonly ScoredList[], generatedAt: Date): Buffer {
  const names = new Map<string, Uint8Array>();
  let size = SIGNATURE.length + 8 + 2;
  for (const l of lists) {
    let name = names.get(l.algorithm);
    if (!name) names.set(l.algorithm, (name = textEncoder.encode(l.algorithm)));
    const n = l.movieIds.length;
    if (l.scores.length !== n) throw new Error(`list of ${n} movies with ${l.scores.length} scores`);
    // Five fields: user id, algorithm, time, the two arrays (a one-dimension header of 20 bytes, 12 when empty).
    size += 2 + 12 + 4 + name.length + 12 + 2 * (4 + (n === 0 ? 12 : 20)) + n * (12 + 8);
  }
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes.set(SIGNATURE);
  let at = SIGNATURE.length + 8; // flags and header extension length: 0
  const int8 = (v: number) => {
    view.setInt32(at, Math.floor(v / 2 ** 32));
    view.setUint32(at + 4, v >>> 0);
    at += 8;
  };
  const id = (text: string) => {
    const v = Number(text);
    if (Number.isSafeInteger(v)) int8(v);
    else view.setBigInt64(at, BigInt(text)), (at += 8);
  };
  const arrayHeader = (n: number, oid: number, elementBytes: number) => {
    view.setInt32(at, n === 0 ? 12 : 20 + n * (4 + elementBytes));
    view.setInt32(at + 4, n === 0 ? 0 : 1); // dimensions ('{}' has none)
    view.setInt32(at + 8, 0); // no NULLs
    view.setInt32(at + 12, oid);
    at += 16;
    if (n > 0) {
      view.setInt32(at, n);
      view.setInt32(at + 4, 1); // lower bound
      at += 8;
    }
  };
  const micros = (generatedAt.getTime() - PG_EPOCH_MS) * 1000;
  for (const l of lists) {
    const n = l.movieIds.length;
    view.setInt16(at, 5);
    view.setInt32(at + 2, 8);
    at += 6;
    id(l.userId);
    const name = names.get(l.algorithm)!;
    view.setInt32(at, name.length);
    bytes.set(name, at + 4);
    at += 4 + name.length;
    view.setInt32(at, 8);
    at += 4;
    int8(micros);
    arrayHeader(n, INT8_OID, 8);
    for (let k = 0; k < n; k++) {
      view.setInt32(at, 8);
      at += 4;
      id(l.movieIds[k]);
    }
    arrayHeader(n, FLOAT4_OID, 4);
    for (let k = 0; k < n; k++) {
      view.setInt32(at, 4);
      // −0 goes in as 0, as its text form ("0.00000000") did.
      view.setFloat32(at + 4, l.scores[k] + 0);
      at += 8;
    }
  }
  view.setInt16(at, -1);
  return Buffer.from(bytes.buffer);
}

/**
 * Replaces the lists of `userIds` with `lists` inside the caller's transaction on `client` (which must hold the
 * users' scoring locks). A user's algorithm without a list gets an empty one, so an older list is never served.
 * The `user_recommendations` rows clicks and feedback refer to are history and stay as they are.
 */
export async function replaceLists(client: pg.PoolClient, userIds: readonly string[], lists: readonly ScoredList[], generatedAt: Date): Promise<void> {
  if (lists.length > 0) {
    await pipeline(
      Readable.from([copyBinary(lists, generatedAt)]),
      client.query(copyFrom("copy user_recommendation_lists (user_id, algorithm, generated_at, movie_ids, scores) from stdin with (format binary)")),
    );
  }
  // Each (user, algorithm) keeps its two newest lists: the one just written and the one it replaces.
  await client.query(
    `delete from user_recommendation_lists l where l.user_id = any($1::bigint[])
       and (select count(*) from user_recommendation_lists n where n.user_id = l.user_id and n.algorithm = l.algorithm and n.id > l.id) >= 2`,
    [pgArray(userIds)],
  );
}
