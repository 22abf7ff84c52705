/**
 * The TMDb import job: what a job carries (parameters only, never data), its progress counters, and the
 * run itself. Each movie is fetched (details, then credits, keywords and the key people when asked) and
 * saved in a transaction of its own, so a failure costs one movie, never a half-written one. A 404 skips
 * the movie and records why; an invalid key stops the whole job (TmdbAuthError); TMDb staying down
 * (several movies in a row failing after all retries) fails the job so BullMQ retries it later.
 */
import { createHash, randomUUID } from "node:crypto";
import type pg from "pg";
import type { OmdbClient } from "./import-omdb.ts";
import { inTransaction } from "./import-sql.ts";
import { TmdbAuthError, TmdbNotFoundError, type TmdbClient, type TmdbMovieList } from "./tmdb-client.ts";
import { movieRecord, personRecord, type TmdbCredits, type TmdbKeywords } from "./tmdb-types.ts";
import type { PersonRecord } from "./upsert-catalog.ts";
import { saveMovies, upsertGenres } from "./upsert-catalog.ts";

/** BullMQ job name on the `catalog-import` queue. */
export const TMDB_IMPORT_JOB = "tmdb-import";

export const IMPORT_KINDS = ["genres", "popular", "top_rated", "now_playing", "upcoming", "tmdb_ids"] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

/** The job payload: what to import, nothing else. */
export interface TmdbImportParams {
  readonly kind: ImportKind;
  /** For `tmdb_ids`. */
  readonly tmdbIds: readonly number[];
  /** List kinds: pages to read (≥ 1) starting at `startPage` (≥ 1). */
  readonly pages: number;
  readonly startPage: number;
  /** Also credits, keywords and the key people's details. */
  readonly includeCredits: boolean;
}

/** Counters reported through `job.updateProgress` and read back by GetImportJob. */
export interface ImportProgress {
  found: number;
  imported: number;
  updated: number;
  skipped: number;
  failed: number;
  /** At most the first MAX_ERRORS messages. */
  errors: string[];
}

export const MAX_ERRORS = 100;
/** Movies failing in a row (after the client's own retries) before TMDb is considered down. */
const MAX_CONSECUTIVE_FAILURES = 5;
/** People whose details (biography, birthday) are fetched per movie: directors and the first billed actors. */
const DETAILED_CAST = 3;

/**
 * The job id: derived from `requestId` when given, so a retried StartTmdbImport finds the job it started
 * (BullMQ ignores an add whose id exists); random otherwise. Never contains ':' and is never all digits.
 */
export function importJobId(requestId: string | undefined): string {
  if (requestId) return `tmdb-import-${createHash("sha256").update(requestId).digest("hex").slice(0, 32)}`;
  return `tmdb-import-${randomUUID()}`;
}

export function emptyProgress(): ImportProgress {
  return { found: 0, imported: 0, updated: 0, skipped: 0, failed: 0, errors: [] };
}

export interface RunImportDeps {
  readonly tmdb: TmdbClient;
  readonly pool: pg.Pool;
  /** When set, each movie with an IMDb id gets its IMDb rating from OMDb (best effort). */
  readonly omdb?: OmdbClient;
  /** Called after every movie (and page); persisting it is the caller's business. */
  readonly onProgress?: (p: Readonly<ImportProgress>) => Promise<void> | void;
  /** Database ids of movies that changed (`[]` when only genres did), for cache invalidation. */
  readonly onChanged?: (movieIds: string[]) => Promise<void> | void;
}

const LISTS: Record<Exclude<ImportKind, "genres" | "tmdb_ids">, TmdbMovieList> = {
  popular: "popular",
  top_rated: "top_rated",
  now_playing: "now_playing",
  upcoming: "upcoming",
};

/** Runs one import to the end and returns its counters; throws TmdbAuthError or when TMDb is down. */
export async function runTmdbImport(params: TmdbImportParams, deps: RunImportDeps): Promise<ImportProgress> {
  const progress = emptyProgress();
  const error = (message: string) => {
    if (progress.errors.length < MAX_ERRORS) progress.errors.push(message);
  };
  const report = async () => deps.onProgress?.(progress);

  if (params.kind === "genres") {
    const list = await deps.tmdb.genres();
    progress.found = list.genres.length;
    const r = await inTransaction(deps.pool, (c) => upsertGenres(c, list.genres.map((g) => ({ tmdbId: g.id, name: g.name }))));
    progress.imported = r.inserted.size;
    progress.updated = r.updated.size;
    progress.skipped = list.genres.length - r.inserted.size - r.updated.size;
    if (r.inserted.size + r.updated.size > 0) await deps.onChanged?.([]);
    await report();
    return progress;
  }

  let ids: number[];
  if (params.kind === "tmdb_ids") {
    ids = [...new Set(params.tmdbIds)];
    progress.found = ids.length;
  } else {
    ids = [];
    for (let page = params.startPage; page < params.startPage + params.pages; page++) {
      let result;
      try {
        result = await deps.tmdb.moviePage(LISTS[params.kind], page);
      } catch (e) {
        if (e instanceof TmdbNotFoundError) {
          error(`page ${page} of ${params.kind}: not found on TMDb`);
          break; // past the last page
        }
        throw e;
      }
      progress.found += result.results.length;
      ids.push(...result.results.map((m) => m.id));
      if (page >= result.total_pages) break;
    }
    const unique = [...new Set(ids)];
    progress.skipped += ids.length - unique.length; // listed twice (lists shift while being paged)
    ids = unique;
    await report();
  }

  let consecutiveFailures = 0;
  for (const tmdbId of ids) {
    try {
      const outcome = await importMovie(tmdbId, params.includeCredits, deps, error);
      progress[outcome.outcome]++;
      if (outcome.changedId) await deps.onChanged?.([outcome.changedId]);
      consecutiveFailures = 0;
    } catch (e) {
      if (e instanceof TmdbAuthError) throw e;
      if (e instanceof TmdbNotFoundError) {
        progress.skipped++;
        error(`movie ${tmdbId}: not found on TMDb (404), skipped`);
      } else {
        progress.failed++;
        error(`movie ${tmdbId}: ${(e as Error).message}`);
        if (++consecutiveFailures >= MAX_CONSECUTIVE_FAILURES) {
          await report();
          throw new Error(`TMDb import stopped: ${consecutiveFailures} movies failed in a row (last: ${(e as Error).message})`);
        }
      }
    }
    await report();
  }
  return progress;
}

/** Fetches and saves one movie; throws TmdbNotFoundError when TMDb does not know it. */
async function importMovie(
  tmdbId: number,
  includeCredits: boolean,
  deps: RunImportDeps,
  error: (message: string) => void,
): Promise<{ outcome: "imported" | "updated" | "skipped"; changedId?: string }> {
  const movie = await deps.tmdb.movie(tmdbId);
  let credits: TmdbCredits | undefined;
  let keywords: TmdbKeywords | undefined;
  const people = new Map<number, PersonRecord>();
  if (includeCredits) {
    credits = await optional(deps.tmdb.credits(tmdbId));
    keywords = await optional(deps.tmdb.keywords(tmdbId));
    // Biographies for the people GetPerson is most asked about; the rest keep what credits say.
    const wanted = [
      ...(credits?.crew ?? []).filter((c) => c.job === "Director"),
      ...(credits?.cast ?? []).filter((c) => (c.order ?? 0) < DETAILED_CAST),
    ].map((p) => p.id);
    const known = await deps.pool.query<{ tmdb_id: number }>("select tmdb_id from persons where tmdb_id = any($1::int[]) and biography <> ''", [wanted]);
    const have = new Set(known.rows.map((r) => r.tmdb_id));
    for (const id of new Set(wanted)) {
      if (have.has(id)) continue;
      const person = await optional(deps.tmdb.person(id));
      if (person) people.set(id, personRecord(person));
    }
  }
  let record = movieRecord(movie, { credits, keywords, people });
  if (deps.omdb && record.imdbId) {
    try {
      record = { ...record, imdbRating: await deps.omdb.imdbRating(record.imdbId) };
    } catch (e) {
      error(`movie ${tmdbId}: no IMDb rating: ${(e as Error).message}`);
    }
  }
  const saved = await inTransaction(deps.pool, (c) => saveMovies(c, [record]));
  const id = saved.ids.get(tmdbId);
  if (saved.imported.length > 0) return { outcome: "imported", changedId: id };
  if (saved.updated.length > 0) return { outcome: "updated", changedId: id };
  return { outcome: "skipped" };
}

/** A sub-resource TMDb does not have (404) is simply absent. */
async function optional<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof TmdbNotFoundError) return undefined;
    throw e;
  }
}
