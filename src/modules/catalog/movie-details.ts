/** GetMovie and BatchGetMovies: a movie with its genres and credits, straight from PostgreSQL. */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { CastRecord, CompanyRecord, CrewRecord, MovieDetails, MovieLookup, MovieRecord } from "./catalog-types.ts";
import { MOVIE_COLUMNS, type MovieRow, isDbId, withGenres } from "./movie-rows.ts";

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

/** Cast of a movie in billing order. */
export async function castOf(em: EntityManager, movieId: string): Promise<CastRecord[]> {
  const rows = await em.execute<{ person_id: string; tmdb_id: number; name: string; character: string; order: number; profile_path: string | null }[]>(
    `select p.id::text as person_id, p.tmdb_id, p.name, c."character", c."order", p.profile_path
       from movie_cast c join persons p on p.id = c.person_id
      where c.movie_id = ?::bigint
      order by c."order", c.id`,
    [movieId],
  );
  return rows.map((r) => ({ personId: r.person_id, personTmdbId: r.tmdb_id, name: r.name, character: r.character, order: r.order, profilePath: r.profile_path }));
}

/** Crew of a movie, directors and writers first. */
export async function crewOf(em: EntityManager, movieId: string): Promise<CrewRecord[]> {
  const rows = await em.execute<{ person_id: string; tmdb_id: number; name: string; job: string; department: string; profile_path: string | null }[]>(
    `select p.id::text as person_id, p.tmdb_id, p.name, c.job, c.department, p.profile_path
       from movie_crew c join persons p on p.id = c.person_id
      where c.movie_id = ?::bigint
      order by ${CREW_ORDER}`,
    [movieId],
  );
  return rows.map((r) => ({ personId: r.person_id, personTmdbId: r.tmdb_id, name: r.name, job: r.job, department: r.department, profilePath: r.profile_path }));
}

/** Production companies of a movie, in the order they were attached (TMDb's order). */
export async function companiesOf(em: EntityManager, movieId: string): Promise<CompanyRecord[]> {
  const rows = await em.execute<{ id: string; tmdb_id: number; name: string; logo_path: string | null; origin_country: string }[]>(
    `select pc.id::text as id, pc.tmdb_id, pc.name, pc.logo_path, pc.origin_country
       from movie_production_companies mpc join production_companies pc on pc.id = mpc.production_company_id
      where mpc.movie_id = ?::bigint
      order by mpc.id`,
    [movieId],
  );
  return rows.map((r) => ({ id: r.id, tmdbId: r.tmdb_id, name: r.name, logoPath: r.logo_path, originCountry: r.origin_country }));
}

/** Everything GetMovie shows, or undefined for an unknown movie. */
export async function loadMovieDetails(em: EntityManager, lookup: MovieLookup): Promise<MovieDetails | undefined> {
  const movie = await findMovie(em, lookup);
  if (!movie) return undefined;
  const [cast, crew, companies] = await Promise.all([castOf(em, movie.id), crewOf(em, movie.id), companiesOf(em, movie.id)]);
  return { movie, cast, crew, companies };
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
