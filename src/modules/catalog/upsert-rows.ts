/**
 * Generic set-based writes used by every import: an idempotent upsert keyed by `tmdb_id`, and a
 * per-movie "make the link rows equal to this set" for the junction tables. Both only touch rows
 * that differ, so re-running an import with unchanged data writes nothing (no dead tuples, no
 * `updated_at` churn, no cache invalidation) and reports it as unchanged.
 */
import type { SqlClient } from "./import-sql.ts";

/** A column written by a bulk statement: its name and the PostgreSQL array element type to bind it as. */
export interface Column {
  readonly name: string;
  readonly type: "int" | "bigint" | "text" | "date" | "numeric" | "float8" | "bool" | "timestamptz";
  /**
   * SQL for the value on update, instead of `excluded.<name>` (`$t` is the target table), e.g.
   * `coalesce(excluded.logo_path, $t.logo_path)` so a source that lacks a value does not erase it.
   */
  readonly onUpdate?: string;
}

const q = (name: string) => `"${name}"`;

/** Turns rows into one array per column (`unnest` wants columns). */
function toColumns(rows: readonly unknown[][], width: number): unknown[][] {
  const cols: unknown[][] = Array.from({ length: width }, () => new Array<unknown>(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    for (let c = 0; c < width; c++) cols[c]![r] = row[c] ?? null;
  }
  return cols;
}

export interface UpsertResult {
  /** Database id of every row of the batch, by TMDb id. */
  readonly ids: Map<number, string>;
  /** TMDb ids of the rows inserted, and of the existing rows whose values changed. */
  readonly inserted: Set<number>;
  readonly updated: Set<number>;
}

/**
 * Inserts or updates `rows` (each `[tmdbId, ...values in columns order]`) of `table` by `tmdb_id`.
 * An existing row is rewritten only when a value is distinct; `touch` names a timestamp column set to now() then.
 * Rows repeating a TMDb id are collapsed (the last wins): ON CONFLICT cannot touch a row twice in one statement.
 */
export async function upsertByTmdbId(
  client: SqlClient,
  table: string,
  columns: readonly Column[],
  rows: readonly unknown[][],
  opts: { touch?: string } = {},
): Promise<UpsertResult> {
  const result: UpsertResult = { ids: new Map(), inserted: new Set(), updated: new Set() };
  const unique = [...new Map(rows.map((r) => [r[0] as number, r])).values()];
  if (unique.length === 0) return result;
  const all: Column[] = [{ name: "tmdb_id", type: "int" }, ...columns];
  const params = toColumns(unique, all.length);
  const value = (c: Column) => (c.onUpdate ?? `excluded.${q(c.name)}`).replaceAll("$t", q(table));
  const sets = columns.map((c) => `${q(c.name)} = ${value(c)}`);
  if (opts.touch) sets.push(`${q(opts.touch)} = now()`);
  const sql = `insert into ${q(table)} (${all.map((c) => q(c.name)).join(", ")})
    select * from unnest(${all.map((c, i) => `$${i + 1}::${c.type}[]`).join(", ")})
    on conflict (tmdb_id) do update set ${sets.join(", ")}
    where (${columns.map((c) => `${q(table)}.${q(c.name)}`).join(", ")}) is distinct from (${columns.map(value).join(", ")})
    returning tmdb_id, (xmax = 0) as inserted`;
  const written = await client.query<{ tmdb_id: number; inserted: boolean }>(sql, params);
  for (const row of written.rows) (row.inserted ? result.inserted : result.updated).add(row.tmdb_id);
  const ids = await client.query<{ id: string; tmdb_id: number }>(`select id, tmdb_id from ${q(table)} where tmdb_id = any($1::int[])`, [
    params[0],
  ]);
  for (const row of ids.rows) result.ids.set(row.tmdb_id, String(row.id));
  return result;
}

/**
 * Makes the rows of junction `table` for each movie of `movieIds` exactly `rows` (each `[movieId, ...values]`):
 * rows no longer wanted are deleted, missing ones inserted, identical ones left alone — in one statement, so
 * readers see either the old set or the new one. Returns the ids of the movies whose rows changed.
 */
export async function replaceMovieLinks(
  client: SqlClient,
  table: string,
  columns: readonly Column[],
  movieIds: readonly string[],
  rows: readonly unknown[][],
): Promise<Set<string>> {
  if (movieIds.length === 0) return new Set();
  const all: Column[] = [{ name: "movie_id", type: "bigint" }, ...columns];
  // Duplicates in the wanted set would be inserted twice (or violate a unique pair): keep one of each.
  const unique = [...new Map(rows.map((r) => [JSON.stringify(r), r])).values()];
  const params: unknown[] = [...toColumns(unique, all.length), movieIds];
  // Plain `=` (link columns are NOT NULL): `is not distinct from` would keep the planner off the movie_id indexes.
  const same = (a: string, b: string) => all.map((c) => `${a}.${q(c.name)} = ${b}.${q(c.name)}`).join(" and ");
  const names = all.map((c) => q(c.name)).join(", ");
  const sql = `with d (${names}) as (select * from unnest(${all.map((c, i) => `$${i + 1}::${c.type}[]`).join(", ")})),
    del as (
      delete from ${q(table)} t where t.movie_id = any($${all.length + 1}::bigint[])
        and not exists (select 1 from d where ${same("d", "t")})
      returning t.movie_id),
    ins as (
      insert into ${q(table)} (${names}) select ${names} from d
        where not exists (select 1 from ${q(table)} t where ${same("t", "d")})
        -- a concurrent import of the same movie may have inserted the pair since our snapshot
        on conflict do nothing
      returning movie_id)
    select movie_id from del union select movie_id from ins`;
  const changed = await client.query<{ movie_id: string }>(sql, params);
  return new Set(changed.rows.map((r) => String(r.movie_id)));
}
