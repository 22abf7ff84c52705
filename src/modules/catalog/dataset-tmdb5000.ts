/**
 * The Kaggle "TMDB 5000" movies file (`tmdb_5000_movies.csv`): one movie per row, with genres, keywords and
 * production companies as JSON columns. Rows become `MovieRecord`s for `saveMovies`; the file has no
 * credits, IMDb ids, posters or adult flags, so those are left as they are in the database.
 */
import path from "node:path";
import type pg from "pg";
import { MOVIE_STATUSES, type MovieStatus } from "./entities/index.ts";
import { field, importCsvInBatches, RowError, type FileReport, type Parsed } from "./dataset-batches.ts";
import type { MovieRecord } from "./upsert-catalog.ts";
import { saveMovies } from "./upsert-catalog.ts";

export const TMDB5000_FILE = "tmdb_5000_movies.csv";

const COLUMNS = [
  "budget", "genres", "id", "keywords", "original_language", "original_title", "overview", "popularity",
  "production_companies", "release_date", "revenue", "runtime", "status", "tagline", "title", "vote_average", "vote_count",
] as const;

type IdName = { id: number; name: string };
const isIdNames = (v: unknown): v is IdName[] =>
  Array.isArray(v) && v.every((x) => typeof x === "object" && x !== null && Number.isInteger((x as IdName).id) && (x as IdName).id > 0 && typeof (x as IdName).name === "string");

/** TMDb writes 0 for an unknown budget, revenue or runtime; we store NULL (unknown) rather than a false 0. */
const unknownIfZero = (n: number | null) => (n === 0 ? null : n);

/** One CSV row as a movie; throws RowError naming the bad column. */
export function parseTmdb5000Row(row: Readonly<Record<string, string>>): Parsed<MovieRecord> {
  const tmdbId = field.int(row, "id", { min: 1 })!;
  const title = (row.title ?? "").trim();
  if (title === "") throw new RowError("title: empty");
  const status = (row.status ?? "").trim() || "Released";
  if (!(MOVIE_STATUSES as readonly string[]).includes(status)) throw new RowError(`status: unknown value ${JSON.stringify(status)}`);
  const rating = field.float(row, "vote_average", { min: 0, max: 10, optional: true });
  return {
    item: {
      tmdbId,
      title,
      originalTitle: (row.original_title ?? "").trim() || title,
      overview: row.overview ?? "",
      tagline: row.tagline ?? "",
      releaseDate: field.date(row, "release_date"),
      runtime: unknownIfZero(field.int(row, "runtime", { min: 0, optional: true })),
      budget: unknownIfZero(field.int(row, "budget", { min: 0, optional: true })),
      revenue: unknownIfZero(field.int(row, "revenue", { min: 0, optional: true })),
      status: status as MovieStatus,
      tmdbRating: rating === null ? null : Math.round(rating * 10) / 10,
      tmdbVoteCount: field.int(row, "vote_count", { min: 0, optional: true }) ?? 0,
      popularityScore: field.float(row, "popularity", { min: 0, optional: true }) ?? 0,
      originalLanguage: (row.original_language ?? "").trim(),
      genres: field.json(row, "genres", isIdNames).map((g) => ({ tmdbId: g.id, name: g.name })),
      keywords: field.json(row, "keywords", isIdNames).map((k) => ({ tmdbId: k.id, name: k.name })),
      companies: field.json(row, "production_companies", isIdNames).map((c) => ({ tmdbId: c.id, name: c.name })),
    },
  };
}

/** Imports `tmdb_5000_movies.csv` from `dir`; idempotent (a second run reports every row unchanged). */
export async function importTmdb5000(
  pool: pg.Pool,
  opts: {
    dir: string;
    limit?: number;
    batchSize?: number;
    onProgress?: (r: Readonly<FileReport>) => void;
    /** Database ids of new or changed movies (for cache invalidation after the import). */
    onChanged?: (movieIds: string[]) => void;
  },
): Promise<FileReport> {
  return importCsvInBatches(pool, {
    path: path.join(opts.dir, TMDB5000_FILE),
    columns: COLUMNS,
    parse: parseTmdb5000Row,
    async apply(client, movies) {
      const r = await saveMovies(client, movies);
      opts.onChanged?.([...r.imported, ...r.updated].map((t) => r.ids.get(t)!));
      return { imported: r.imported.length, updated: r.updated.length, unchanged: r.unchanged.length };
    },
    batchSize: opts.batchSize ?? 500,
    limit: opts.limit,
    onProgress: opts.onProgress,
  });
}
