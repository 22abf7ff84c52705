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
import { from as copyFrom } from "pg-copy-streams";
import { pgArray, type SqlExecutor } from "./pg-array.ts";


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

/** An Executor over a checked-out `pg` client (so it runs inside that client's transaction). */
export function clientExecutor(client: pg.PoolClient): SqlExecutor {
  return {
    async execute<T>(sql: string, params: unknown[] = []) {
      return (await client.query(numbered(sql), params)).rows as T;
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

/** The COPY text of the lists (tab-separated; ids, numbers and our algorithm names need no escaping). */
function copyLines(lists: readonly ScoredList[], generatedAt: string): string {
  const parts: string[] = new Array(lists.length);
  for (let k = 0; k < lists.length; k++) {
    const l = lists[k];
    // Scores as float4 text: what the column keeps anyway, and nine digits round-trip a float4 exactly.
    const scores = l.scores.map((v) => Math.fround(v).toPrecision(9)).join(",");
    parts[k] = `${l.userId}\t${l.algorithm}\t${generatedAt}\t{${l.movieIds.join(",")}}\t{${scores}}\n`;
  }
  return parts.join("");
}

/**
 * Replaces the lists of `userIds` with `lists` inside the caller's transaction on `client` (which must hold the
 * users' scoring locks). A user's algorithm without a list gets an empty one, so an older list is never served.
 * The `user_recommendations` rows clicks and feedback refer to are history and stay as they are.
 */
export async function replaceLists(client: pg.PoolClient, userIds: readonly string[], lists: readonly ScoredList[], generatedAt: Date): Promise<void> {
  if (lists.length > 0) {
    await pipeline(
      Readable.from([Buffer.from(copyLines(lists, generatedAt.toISOString()))]),
      client.query(copyFrom("copy user_recommendation_lists (user_id, algorithm, generated_at, movie_ids, scores) from stdin")),
    );
  }
  // Each (user, algorithm) keeps its two newest lists: the one just written and the one it replaces.
  await client.query(
    `delete from user_recommendation_lists l where l.user_id = any($1::bigint[])
       and (select count(*) from user_recommendation_lists n where n.user_id = l.user_id and n.algorithm = l.algorithm and n.id > l.id) >= 2`,
    [pgArray(userIds)],
  );
}
