/** GetMovie and BatchGetMovies: a movie with its genres and credits, straight from PostgreSQL. */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { CastRecord, CompanyRecord, CrewRecord, GenreRecord, MovieDetails, MovieLookup, MovieRecord } from "./catalog-types.ts";
import { MOVIE_COLUMNS, type MovieRow, isDbId, toMovieRecord, withGenres } from "./movie-rows.ts";

/** Directors, then writers, then the other departments by name (the order people read credits in). */
const CREW_ORDER = `case c.department when 'Directing' then 0 when 'Writing' then 1 else 2 end, c.department, c.job, p.name, p.id`;

/** The WHERE clause and parameter of a look-up (each one served by a unique index). */
export function lookupCondition(lookup: MovieLookup): { where: string; param: unknown } {
  switch (lookup.by) {
    case "id":
      return { where: "m.id = ?::bigint", param: lookup.id };
    case "tmdb":
      return { where: "m.tmdb_id = ?", param: lookup.tmdbId };
    case "imdb":
      return { where: "m.imdb_id = ?", param: lookup.imdbId };
  }
}

/** The movie row (with genres) or undefined. */
export async function findMovie(em: EntityManager, lookup: MovieLookup): Promise<MovieRecord | undefined> {
  if (lookup.by === "id" && !isDbId(lookup.id)) return undefined;
  const { where, param } = lookupCondition(lookup);
  const rows = await em.execute<MovieRow[]>(`select ${MOVIE_COLUMNS} from movies m where ${where}`, [param]);
  return (await withGenres(em, rows))[0];
}

/**
 * Everything GetMovie shows, or undefined for an unknown movie: one statement (the credits as JSON
 * sub-selects, each served by its movie_id index), so an uncached GetMovie costs one round trip
 * and one pooled connection instead of five.
 */
export async function loadMovieDetails(em: EntityManager, lookup: MovieLookup): Promise<MovieDetails | undefined> {
  if (lookup.by === "id" && !isDbId(lookup.id)) return undefined;
  const { sql, params } = movieDetailsSql(lookup);
  const rows = await em.execute<(MovieRow & { genres: unknown; cast: unknown; crew: unknown; companies: unknown })[]>(sql, params);
  const row = rows[0];
  if (!row) return undefined;
  const json = <T>(v: unknown): T => (typeof v === "string" ? JSON.parse(v) : v) as T;
  return {
    movie: toMovieRecord(row, json<GenreRecord[]>(row.genres)),
    cast: json<CastRecord[]>(row.cast),
    crew: json<CrewRecord[]>(row.crew),
    companies: json<CompanyRecord[]>(row.companies),
  };
}

/** The GetMovie statement (exported for the EXPLAIN checks). */
export function movieDetailsSql(lookup: MovieLookup): { sql: string; params: unknown[] } {
  const { where, param } = lookupCondition(lookup);
  return {
    sql: `select ${MOVIE_COLUMNS},
       (select coalesce(json_agg(json_build_object('id', g.id::text, 'tmdbId', g.tmdb_id, 'name', g.name, 'slug', g.slug) order by g.name), '[]')
          from movie_genres mg join genres g on g.id = mg.genre_id where mg.movie_id = m.id) as genres,
       (select coalesce(json_agg(json_build_object('personId', p.id::text, 'personTmdbId', p.tmdb_id, 'name', p.name, 'character', c."character",
                                                   'order', c."order", 'profilePath', p.profile_path) order by c."order", c.id), '[]')
          from movie_cast c join persons p on p.id = c.person_id where c.movie_id = m.id) as "cast",
       (select coalesce(json_agg(json_build_object('personId', p.id::text, 'personTmdbId', p.tmdb_id, 'name', p.name, 'job', c.job,
                                                   'department', c.department, 'profilePath', p.profile_path) order by ${CREW_ORDER}), '[]')
          from movie_crew c join persons p on p.id = c.person_id where c.movie_id = m.id) as crew,
       (select coalesce(json_agg(json_build_object('id', pc.id::text, 'tmdbId', pc.tmdb_id, 'name', pc.name, 'logoPath', pc.logo_path,
                                                   'originCountry', pc.origin_country) order by mpc.id), '[]')
          from movie_production_companies mpc join production_companies pc on pc.id = mpc.production_company_id where mpc.movie_id = m.id) as companies
       from movies m where ${where}`,
    params: [param],
  };
}

/** Movies by id in the request's order; ids with no movie are reported in `missingIds`. */
export async function batchGetMovies(em: EntityManager, ids: readonly string[]): Promise<{ movies: MovieRecord[]; missingIds: string[] }> {
  if (ids.length === 0) return { movies: [], missingIds: [] };
  const valid = ids.filter(isDbId);
  const rows = valid.length === 0 ? [] : await em.execute<MovieRow[]>(`select ${MOVIE_COLUMNS} from movies m where m.id = any(array[?]::bigint[])`, [valid]);
  const byId = new Map((await withGenres(em, rows)).map((m) => [m.id, m]));
  const movies: MovieRecord[] = [];
  const missingIds: string[] = [];
  for (const id of ids) {
    const movie = byId.get(id);
    if (movie) movies.push(movie);
    else missingIds.push(id);
  }
  return { movies, missingIds };
}
