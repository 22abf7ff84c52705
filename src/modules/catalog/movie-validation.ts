/**
 * Rules for staff-written movie fields. The protobuf contract already rejects most bad values at
 * the edge; these run again in the domain (for direct callers, and for what protovalidate cannot
 * express: one decimal on ratings, real calendar dates, blank titles).
 */
import { InvalidInputError } from "../../platform/errors.ts";
import { MOVIE_STATUSES, type MovieStatus } from "./entities/index.ts";
import { isDbId } from "./movie-rows.ts";
import type { MovieColumns } from "./catalog-types.ts";

/** The writable fields of a movie. */
export interface MovieFields extends MovieColumns {
  /** Replaces the movie's genres. */
  genreIds: string[];
}

/** Field names UpdateMovie accepts in its mask (proto paths). */
export const UPDATABLE_PATHS = [
  "imdb_id", "title", "original_title", "overview", "tagline", "release_date", "runtime", "budget", "revenue", "status",
  "tmdb_rating", "tmdb_vote_count", "imdb_rating", "poster_path", "backdrop_path", "adult", "video", "original_language", "genres",
] as const;
export type UpdatablePath = (typeof UPDATABLE_PATHS)[number];

const text = (field: string, v: string, max: number, required: boolean) => {
  if (required && v.trim() === "") throw new InvalidInputError("must not be blank", field);
  if (v.length > max) throw new InvalidInputError(`must be at most ${max} characters`, field);
};

const rating = (field: string, v: number | null) => {
  if (v === null) return;
  if (!Number.isFinite(v) || v < 0 || v > 10) throw new InvalidInputError("must be between 0 and 10", field);
  // numeric(3,1): a second decimal would be rounded away silently, so refuse it.
  if (Math.abs(Math.round(v * 10) - v * 10) > 1e-9) throw new InvalidInputError("must have at most one decimal", field);
};

const nonNegativeInt = (field: string, v: number | null, max: number) => {
  if (v === null) return;
  if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new InvalidInputError(`must be a whole number between 0 and ${max}`, field);
};

/** A real calendar date `YYYY-MM-DD` (rejects 2023-02-30). */
export function isCalendarDate(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** Checks every field of a complete movie; throws InvalidInputError naming the first bad one. */
export function validateMovieFields(f: MovieFields): void {
  if (!Number.isSafeInteger(f.tmdbId) || f.tmdbId <= 0 || f.tmdbId > 2_147_483_647) throw new InvalidInputError("must be a positive 32-bit integer", "tmdb_id");
  if (f.imdbId !== null && !/^tt[0-9]{7,12}$/.test(f.imdbId)) throw new InvalidInputError("must look like tt0133093", "imdb_id");
  text("title", f.title, 200, true);
  text("original_title", f.originalTitle, 200, true);
  text("overview", f.overview, 10_000, false);
  text("tagline", f.tagline, 300, false);
  if (f.releaseDate !== null && !isCalendarDate(f.releaseDate)) throw new InvalidInputError("must be a date YYYY-MM-DD", "release_date");
  nonNegativeInt("runtime", f.runtime, 10_000);
  nonNegativeInt("budget", f.budget, Number.MAX_SAFE_INTEGER);
  nonNegativeInt("revenue", f.revenue, Number.MAX_SAFE_INTEGER);
  if (!(MOVIE_STATUSES as readonly string[]).includes(f.status)) throw new InvalidInputError(`must be one of ${MOVIE_STATUSES.join(", ")}`, "status");
  rating("tmdb_rating", f.tmdbRating);
  rating("imdb_rating", f.imdbRating);
  nonNegativeInt("tmdb_vote_count", f.tmdbVoteCount, 2_147_483_647);
  text("poster_path", f.posterPath ?? "", 200, false);
  text("backdrop_path", f.backdropPath ?? "", 200, false);
  if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(f.originalLanguage) || f.originalLanguage.length > 10) {
    throw new InvalidInputError("must be a language code such as en", "original_language");
  }
  if (f.genreIds.length > 20) throw new InvalidInputError("at most 20 genres", "genres");
  for (const id of f.genreIds) if (!isDbId(id)) throw new InvalidInputError(`unknown genre ${id}`, "genres");
}
