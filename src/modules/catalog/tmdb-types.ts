/**
 * The parts of TMDb API v3 responses the import reads, and their mapping onto `MovieRecord`s.
 * Shapes follow the recorded responses in tests/fixtures/tmdb-api; fields may be null or absent upstream.
 */
import { MOVIE_STATUSES, type MovieStatus } from "./entities/index.ts";
import type { MovieRecord, PersonRecord } from "./upsert-catalog.ts";

export interface TmdbGenreList {
  genres: Array<{ id: number; name: string }>;
}

export interface TmdbMoviePage {
  page: number;
  total_pages: number;
  results: Array<{ id: number; title?: string; adult?: boolean }>;
}

export interface TmdbMovie {
  id: number;
  imdb_id?: string | null;
  title: string;
  original_title?: string;
  overview?: string | null;
  tagline?: string | null;
  release_date?: string | null;
  runtime?: number | null;
  budget?: number | null;
  revenue?: number | null;
  status?: string | null;
  vote_average?: number | null;
  vote_count?: number | null;
  popularity?: number | null;
  poster_path?: string | null;
  backdrop_path?: string | null;
  adult?: boolean;
  video?: boolean;
  original_language?: string | null;
  genres?: Array<{ id: number; name: string }>;
  production_companies?: Array<{ id: number; name: string; logo_path?: string | null; origin_country?: string | null }>;
}

interface TmdbCreditPerson {
  id: number;
  name: string;
  known_for_department?: string | null;
  profile_path?: string | null;
  popularity?: number | null;
}

export interface TmdbCredits {
  id: number;
  cast: Array<TmdbCreditPerson & { character?: string | null; order?: number | null }>;
  crew: Array<TmdbCreditPerson & { job: string; department: string }>;
}

export interface TmdbKeywords {
  id: number;
  keywords: Array<{ id: number; name: string }>;
}

export interface TmdbPerson extends TmdbCreditPerson {
  biography?: string | null;
  birthday?: string | null;
  deathday?: string | null;
  place_of_birth?: string | null;
}

/** Top-billed cast kept per movie. */
export const MAX_CAST = 20;

/** The crew jobs kept ("key crew"): who made the film, not every grip and driver. */
export const KEY_CREW_JOBS: ReadonlySet<string> = new Set([
  "Director", "Screenplay", "Writer", "Novel", "Story", "Author", "Characters",
  "Producer", "Director of Photography", "Original Music Composer", "Editor",
]);

const date = (s: string | null | undefined): string | null => (s && /^\d{4}-\d{2}-\d{2}$/.test(s) ? s : null);
/** TMDb writes 0 for unknown amounts and runtimes; we store NULL. */
const positive = (n: number | null | undefined): number | null => (typeof n === "number" && Number.isFinite(n) && n > 0 ? Math.round(n) : null);

function creditPerson(p: TmdbCreditPerson, department: string): PersonRecord {
  return {
    tmdbId: p.id,
    name: p.name,
    knownForDepartment: p.known_for_department || department,
    profilePath: p.profile_path ?? null,
    popularity: Math.max(0, p.popularity ?? 0),
  };
}

/** Person details as a record (merged over the credit's by `saveMovies`). */
export function personRecord(p: TmdbPerson): PersonRecord {
  return {
    ...creditPerson(p, "Acting"),
    biography: p.biography ?? "",
    birthday: date(p.birthday),
    // The design's CHECK (deathday >= birthday) must not reject a typo upstream.
    deathday: date(p.deathday) && date(p.birthday) && date(p.deathday)! < date(p.birthday)! ? null : date(p.deathday),
    placeOfBirth: p.place_of_birth ?? "",
  };
}

/** A TMDb movie (with credits and keywords when fetched) as a record for `saveMovies`. */
export function movieRecord(m: TmdbMovie, extra: { credits?: TmdbCredits; keywords?: TmdbKeywords; people?: ReadonlyMap<number, PersonRecord> } = {}): MovieRecord {
  const status = (MOVIE_STATUSES as readonly string[]).includes(m.status ?? "") ? (m.status as MovieStatus) : "Released";
  const rating = typeof m.vote_average === "number" ? Math.min(10, Math.max(0, Math.round(m.vote_average * 10) / 10)) : null;
  const person = (p: TmdbCreditPerson, department: string) => ({ ...creditPerson(p, department), ...extra.people?.get(p.id) });
  return {
    tmdbId: m.id,
    imdbId: m.imdb_id && /^tt\d{7,12}$/.test(m.imdb_id) ? m.imdb_id : null,
    title: m.title,
    originalTitle: m.original_title || m.title,
    overview: m.overview ?? "",
    tagline: m.tagline ?? "",
    releaseDate: date(m.release_date),
    runtime: positive(m.runtime),
    budget: positive(m.budget),
    revenue: positive(m.revenue),
    status,
    tmdbRating: rating,
    tmdbVoteCount: Math.max(0, m.vote_count ?? 0),
    popularityScore: Math.max(0, m.popularity ?? 0),
    originalLanguage: m.original_language ?? "",
    posterPath: m.poster_path ?? null,
    backdropPath: m.backdrop_path ?? null,
    adult: m.adult ?? false,
    video: m.video ?? false,
    genres: (m.genres ?? []).map((g) => ({ tmdbId: g.id, name: g.name })),
    companies: (m.production_companies ?? []).map((c) => ({ tmdbId: c.id, name: c.name, logoPath: c.logo_path ?? null, originCountry: c.origin_country ?? "" })),
    keywords: extra.keywords?.keywords.map((k) => ({ tmdbId: k.id, name: k.name })),
    cast: extra.credits?.cast
      .filter((c) => (c.order ?? 0) < MAX_CAST)
      .map((c) => ({ person: person(c, "Acting"), character: c.character ?? "", order: Math.max(0, c.order ?? 0) })),
    crew: extra.credits?.crew.filter((c) => KEY_CREW_JOBS.has(c.job)).map((c) => ({ person: person(c, c.department), job: c.job, department: c.department })),
  };
}
