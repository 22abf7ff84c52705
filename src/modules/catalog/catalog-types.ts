/**
 * The catalogue as the rest of the module sees it: plain, JSON-safe records (dates as strings,
 * ids as decimal strings), so they can be cached in Redis as they are and mapped to protobuf in
 * one place (catalog.rpc.ts).
 */
import type { MovieStatus } from "./entities/index.ts";

export type { MovieStatus };

/** A genre as listed and attached to movies. */
export interface GenreRecord {
  id: string;
  tmdbId: number;
  name: string;
  slug: string;
}

/** The columns of `movies` a staff writer sets (see movie-validation.ts for their rules). */
export interface MovieColumns {
  tmdbId: number;
  imdbId: string | null;
  title: string;
  originalTitle: string;
  overview: string;
  tagline: string;
  /** `YYYY-MM-DD` or null. */
  releaseDate: string | null;
  runtime: number | null;
  budget: number | null;
  revenue: number | null;
  status: MovieStatus;
  tmdbRating: number | null;
  tmdbVoteCount: number;
  imdbRating: number | null;
  posterPath: string | null;
  backdropPath: string | null;
  adult: boolean;
  video: boolean;
  originalLanguage: string;
}

/** One row of `movies` with its genres (sorted by name). */
export interface MovieRecord extends MovieColumns {
  id: string;
  ourRating: number | null;
  popularityScore: number;
  viewCount: number;
  likeCount: number;
  isActive: boolean;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601. */
  updatedAt: string;
  genres: GenreRecord[];
}

export interface CastRecord {
  personId: string;
  personTmdbId: number;
  name: string;
  character: string;
  order: number;
  profilePath: string | null;
}

export interface CrewRecord {
  personId: string;
  personTmdbId: number;
  name: string;
  job: string;
  /** TMDb department name ('Directing', 'Writing', …). */
  department: string;
  profilePath: string | null;
}

export interface CompanyRecord {
  id: string;
  tmdbId: number;
  name: string;
  logoPath: string | null;
  originCountry: string;
}

/** What GetMovie returns: the movie with every credit (the cast cap is applied after the cache). */
export interface MovieDetails {
  movie: MovieRecord;
  cast: CastRecord[];
  crew: CrewRecord[];
  companies: CompanyRecord[];
}

export interface PersonRecord {
  id: string;
  tmdbId: number;
  name: string;
  biography: string;
  birthday: string | null;
  deathday: string | null;
  placeOfBirth: string;
  profilePath: string | null;
  knownForDepartment: string;
  popularity: number;
  createdAt: string;
}

/** One credit of a person: the movie plus the part played or the job done. */
export type PersonCreditRecord =
  | { movie: MovieRecord; kind: "cast"; character: string; order: number }
  | { movie: MovieRecord; kind: "crew"; job: string; department: string };

/** A page of results and the opaque cursor of the next one ("" on the last page). */
export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

/** How a movie is named in GetMovie. */
export type MovieLookup = { by: "id"; id: string } | { by: "tmdb"; tmdbId: number } | { by: "imdb"; imdbId: string };
