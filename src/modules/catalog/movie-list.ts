/**
 * ListMovies: filters combined with one of four orders, keyset-paginated on (sort key, id).
 *
 * Rows without a value for the sort key (no rating, no release date) always come last, in either
 * direction. Rather than an `ORDER BY … NULLS LAST` that no index can serve in both directions,
 * a page reads two index-ordered segments — rows with a value (an index on (key, id), migration
 * 0004, scanned forwards or backwards), then, only if the page is not full yet, rows without one
 * ordered by id.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { MovieRecord, MovieStatus, Page } from "./catalog-types.ts";
import { type Cursor, decodeCursor, encodeCursor, fingerprint, pageSize } from "./cursor.ts";
import { MOVIE_COLUMNS, type MovieRow, isDbId, withGenres } from "./movie-rows.ts";

export type MovieOrder = "popularity" | "rating" | "release_date" | "title";
export type Direction = "asc" | "desc";

export interface ListMoviesQuery {
  /** Movies having any of these genres; empty for all. */
  genreIds?: readonly string[];
  releaseYearMin?: number;
  releaseYearMax?: number;
  minRating?: number;
  minVoteCount?: number;
  originalLanguage?: string;
  status?: MovieStatus;
  includeAdult?: boolean;
  orderBy?: MovieOrder;
  /** Defaults: descending, except ascending for title. */
  direction?: Direction;
  pageSize?: number;
  pageToken?: string;
}

interface SortSpec {
  column: string;
  nullable: boolean;
  /** SQL cast of the cursor value. */
  cast: string;
  /** The cursor value of a row. */
  keyOf(row: MovieRow): number | string | null;
}

const SORTS: Record<MovieOrder, SortSpec> = {
  popularity: { column: "m.popularity_score", nullable: false, cast: "float8", keyOf: (r) => Number(r.popularity_score) },
  rating: { column: "m.tmdb_rating", nullable: true, cast: "numeric", keyOf: (r) => (r.tmdb_rating === null ? null : Number(r.tmdb_rating)) },
  release_date: { column: "m.release_date", nullable: true, cast: "date", keyOf: (r) => r.release_date },
  title: { column: "m.title", nullable: false, cast: "text", keyOf: (r) => r.title },
};

/** The request after defaults, which is what a page token is bound to. */
export function normalizeListQuery(q: ListMoviesQuery) {
  const orderBy = q.orderBy ?? "popularity";
  return {
    // An id beyond bigint names no genre; "0" (never an identity value) keeps it matching nothing without a failing cast.
    genreIds: [...new Set((q.genreIds ?? []).map((id) => (isDbId(id) ? id : "0")))].sort(),
    releaseYearMin: q.releaseYearMin ?? null,
    releaseYearMax: q.releaseYearMax ?? null,
    minRating: q.minRating ?? null,
    minVoteCount: q.minVoteCount ?? null,
    originalLanguage: q.originalLanguage || null,
    status: q.status ?? null,
    includeAdult: q.includeAdult ?? false,
    orderBy,
    direction: q.direction ?? (orderBy === "title" ? "asc" : "desc"),
  } as const;
}

export type NormalizedListQuery = ReturnType<typeof normalizeListQuery>;

/** WHERE conditions (alias `m`) and their parameters for the filters of a list. */
export function listFilters(n: NormalizedListQuery): { where: string[]; params: unknown[] } {
  const where = ["m.is_active"];
  const params: unknown[] = [];
  if (!n.includeAdult) where.push("not m.adult");
  if (n.genreIds.length > 0) {
    where.push("exists (select 1 from movie_genres mg where mg.movie_id = m.id and mg.genre_id = any(array[?]::bigint[]))");
    params.push(n.genreIds);
  }
  // Year bounds as date ranges, so the release-date index applies.
  if (n.releaseYearMin !== null) {
    where.push("m.release_date >= ?::date");
    params.push(`${String(n.releaseYearMin).padStart(4, "0")}-01-01`);
  }
  if (n.releaseYearMax !== null) {
    where.push("m.release_date < ?::date");
    params.push(`${String(n.releaseYearMax + 1).padStart(4, "0")}-01-01`);
  }
  if (n.minRating !== null) {
    where.push("m.tmdb_rating >= ?");
    params.push(n.minRating);
  }
  if (n.minVoteCount !== null) {
    where.push("m.tmdb_vote_count >= ?");
    params.push(n.minVoteCount);
  }
  if (n.originalLanguage !== null) {
    where.push("m.original_language = ?");
    params.push(n.originalLanguage);
  }
  if (n.status !== null) {
    where.push("m.status = ?");
    params.push(n.status);
  }
  return { where, params };
}

/**
 * The statements of one page (up to `limit` rows after `cursor`), in order: the rows with a value
 * for the sort key, then (nullable keys only) the rows without one. The caller runs the second only
 * when the first did not fill the page. Exported for the EXPLAIN checks.
 */
export function listMoviesSql(n: NormalizedListQuery, cursor: Cursor | undefined, limit: number): Array<{ sql: string; params: unknown[] }> {
  const sort = SORTS[n.orderBy];
  const dir = n.direction === "asc" ? "asc" : "desc";
  const cmp = dir === "asc" ? ">" : "<";
  const filters = listFilters(n);
  const segment = (extra: string[], extraParams: unknown[], order: string) => ({
    sql: `select ${MOVIE_COLUMNS} from movies m where ${[...filters.where, ...extra].join(" and ")} order by ${order} limit ${limit}`,
    params: [...filters.params, ...extraParams],
  });
  const out: Array<{ sql: string; params: unknown[] }> = [];
  const inNullSegment = sort.nullable && cursor !== undefined && cursor.key === null;
  if (!inNullSegment) {
    const extra = sort.nullable ? [`${sort.column} is not null`] : [];
    const extraParams: unknown[] = [];
    if (cursor) {
      extra.push(`(${sort.column}, m.id) ${cmp} (?::${sort.cast}, ?::bigint)`);
      extraParams.push(cursor.key, cursor.id);
    }
    out.push(segment(extra, extraParams, `${sort.column} ${dir}, m.id ${dir}`));
  }
  if (sort.nullable) {
    const extra = [`${sort.column} is null`];
    const extraParams: unknown[] = [];
    if (inNullSegment) {
      extra.push(`m.id ${cmp} ?::bigint`);
      extraParams.push(cursor!.id);
    }
    out.push(segment(extra, extraParams, `m.id ${dir}`));
  }
  return out;
}

/** One page of ListMovies. */
export async function listMovies(em: EntityManager, q: ListMoviesQuery): Promise<Page<MovieRecord>> {
  const n = normalizeListQuery(q);
  const fp = fingerprint(["list", n]);
  const cursor = decodeCursor(q.pageToken ?? "", fp);
  const size = pageSize(q.pageSize);
  // size + 1 rows tell whether a next page exists; the rows-without-a-value segment is read only if needed.
  const rows: MovieRow[] = [];
  for (const { sql, params } of listMoviesSql(n, cursor, size + 1)) {
    if (rows.length > size) break;
    rows.push(...(await em.execute<MovieRow[]>(sql, params)));
  }
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  const nextPageToken = rows.length > size && last ? encodeCursor({ key: SORTS[n.orderBy].keyOf(last), id: last.id }, fp) : "";
  return { items: await withGenres(em, page), nextPageToken };
}
