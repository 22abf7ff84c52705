/**
 * The write path of scoring: one batch of users' lists replaces their previous ones in a single transaction on a
 * `pg` client of the ORM's pool (COPY is not reachable through the ORM's transaction). The rows go in with COPY into
 * a session-local staging table (no indexes, no WAL: it is TEMP), then one set-based swap moves them into
 * `user_recommendations`: delete the users' old rows (except those a click or feedback refers to), insert the new
 * ones. A reader sees the old lists or the new ones, never a mix; a crash before COMMIT leaves the old ones.
 * Measured (npm run bench:scoring) against the former unnest() upsert of every row followed by a delete of the
 * superseded ones: see the commit that introduced this file for the figures.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { pgArray, type SqlExecutor } from "./pg-array.ts";


/** Columnar rows of a batch (ids as text: they come from and go to PostgreSQL as text anyway). */
export interface ListRows {
  user: string[];
  movie: string[];
  score: number[];
  algorithm: string[];
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

/** The COPY text of the rows (tab-separated; ids, numbers and our algorithm names need no escaping). */
function copyLines(rows: ListRows): string {
  const parts: string[] = new Array(rows.user.length);
  for (let k = 0; k < rows.user.length; k++) parts[k] = `${rows.user[k]}\t${rows.movie[k]}\t${rows.score[k]}\t${rows.algorithm[k]}\n`;
  return parts.join("");
}

/**
 * Replaces the lists of `userIds` with `rows` inside the caller's transaction on `client` (which must hold the
 * users' scoring locks). Rows a click or a feedback refers to survive (they are history), refreshed when the movie
 * is recommended again.
 */
export async function replaceLists(client: pg.PoolClient, userIds: readonly string[], rows: ListRows, generatedAt: Date): Promise<void> {
  // TEMP: private to this session, no WAL; emptied at every commit, so a pooled connection reuses it.
  await client.query(
    "create temp table if not exists rec_stage (user_id bigint not null, movie_id bigint not null, score float8 not null, algorithm text not null) on commit delete rows",
  );
  if (rows.user.length > 0) {
    await pipeline(Readable.from([Buffer.from(copyLines(rows))]), client.query(copyFrom("copy rec_stage (user_id, movie_id, score, algorithm) from stdin")));
  }
  await client.query(
    `delete from user_recommendations r where r.user_id = any($1::bigint[]) and not r.clicked
       and not exists (select 1 from recommendation_feedback f where f.recommendation_id = r.id)`,
    [pgArray(userIds)],
  );
  if (rows.user.length === 0) return;
  // What is left of the users' rows is history a click or feedback points at: refreshed in place where the movie
  // is recommended again. (An anti-join against user_recommendations instead of ON CONFLICT was tried: with the
  // staging table unanalysed the planner's choice made one batch take minutes in bench:scoring.)
  await client.query(
    `insert into user_recommendations (user_id, movie_id, score, algorithm, generated_at)
     select user_id, movie_id, score, algorithm, $1 from rec_stage
     on conflict (user_id, movie_id, algorithm) do update set score = excluded.score, generated_at = excluded.generated_at`,
    [generatedAt],
  );
}
