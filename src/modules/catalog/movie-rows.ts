/**
 * SQL column lists and row mappers shared by the catalogue's read paths. Reads are raw SQL (not
 * entity loading) so that each query is exactly what the EXPLAIN checks look at, and so a page of
 * movies costs two statements (the movies, then their genres) whatever its size.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { GenreRecord, MovieRecord, MovieStatus } from "./catalog-types.ts";

/** The columns of `movies` (alias `m`) that MovieRecord needs, dates already as text. */
export const MOVIE_COLUMNS = `m.id::text as id, m.tmdb_id, m.imdb_id, m.title, m.original_title, m.overview, m.tagline,
  m.release_date::text as release_date, m.runtime, m.budget::text as budget, m.revenue::text as revenue, m.status,
  m.tmdb_rating::text as tmdb_rating, m.tmdb_vote_count, m.imdb_rating::text as imdb_rating, m.our_rating::text as our_rating,
  m.poster_path, m.backdrop_path, m.popularity_score, m.view_count, m.like_count, m.adult, m.video, m.original_language,
  m.is_active, m.created_at, m.updated_at`;

export interface MovieRow {
  id: string;
  tmdb_id: number;
  imdb_id: string | null;
  title: string;
  original_title: string;
  overview: string;
  tagline: string;
  release_date: string | null;
  runtime: number | null;
  budget: string | null;
  revenue: string | null;
  status: string;
  tmdb_rating: string | null;
  tmdb_vote_count: number;
  imdb_rating: string | null;
  our_rating: string | null;
  poster_path: string | null;
  backdrop_path: string | null;
  popularity_score: number | string;
  view_count: number;
  like_count: number;
  adult: boolean;
  video: boolean;
  original_language: string;
  is_active: boolean;
  created_at: Date | string;
  updated_at: Date | string;
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));
const iso = (v: Date | string): string => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

/** Maps a row selected with MOVIE_COLUMNS (genres attached separately). */
export function toMovieRecord(row: MovieRow, genres: GenreRecord[] = []): MovieRecord {
  return {
    id: row.id,
    tmdbId: row.tmdb_id,
    imdbId: row.imdb_id,
    title: row.title,
    originalTitle: row.original_title,
    overview: row.overview,
    tagline: row.tagline,
    releaseDate: row.release_date,
    runtime: row.runtime,
    budget: num(row.budget),
    revenue: num(row.revenue),
    status: row.status as MovieStatus,
    tmdbRating: num(row.tmdb_rating),
    tmdbVoteCount: row.tmdb_vote_count,
    imdbRating: num(row.imdb_rating),
    ourRating: num(row.our_rating),
    posterPath: row.poster_path,
    backdropPath: row.backdrop_path,
    popularityScore: Number(row.popularity_score),
    viewCount: row.view_count,
    likeCount: row.like_count,
    adult: row.adult,
    video: row.video,
    originalLanguage: row.original_language,
    isActive: row.is_active,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    genres,
  };
}

/** Genres of each movie, sorted by name; one statement for the whole page. */
export async function genresOf(em: EntityManager, movieIds: readonly string[]): Promise<Map<string, GenreRecord[]>> {
  const out = new Map<string, GenreRecord[]>();
  if (movieIds.length === 0) return out;
  const rows = await em.execute<{ movie_id: string; id: string; tmdb_id: number; name: string; slug: string }[]>(
    `select mg.movie_id::text as movie_id, g.id::text as id, g.tmdb_id, g.name, g.slug
       from movie_genres mg join genres g on g.id = mg.genre_id
      where mg.movie_id = any(array[?]::bigint[])
      order by g.name`,
    [movieIds],
  );
  for (const r of rows) {
    const list = out.get(r.movie_id) ?? [];
    list.push({ id: r.id, tmdbId: r.tmdb_id, name: r.name, slug: r.slug });
    out.set(r.movie_id, list);
  }
  return out;
}

/** Maps rows to records with their genres, keeping the rows' order. */
export async function withGenres(em: EntityManager, rows: readonly MovieRow[]): Promise<MovieRecord[]> {
  const genres = await genresOf(em, rows.map((r) => r.id));
  return rows.map((r) => toMovieRecord(r, genres.get(r.id) ?? []));
}

const INT8_MAX = 9223372036854775807n;

/** True for a decimal id that fits PostgreSQL's bigint (larger ones cannot exist, and would fail the cast). */
export function isDbId(id: string): boolean {
  return /^[1-9][0-9]{0,18}$/.test(id) && BigInt(id) <= INT8_MAX;
}
