/**
 * CreateMovie, UpdateMovie and DeleteMovie against PostgreSQL, each in one transaction. Cache
 * invalidation happens in the caller, after commit (catalog-service.ts).
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { ConflictError, InvalidInputError, NotFoundError } from "../../platform/errors.ts";
import { recordAudit } from "../audit/index.ts";
import type { MovieRecord } from "./catalog-types.ts";
import { findMovie } from "./movie-details.ts";
import { isDbId } from "./movie-rows.ts";
import { type MovieFields, type UpdatablePath, UPDATABLE_PATHS, validateMovieFields } from "./movie-validation.ts";

/** Column of each scalar field path. */
const COLUMNS: Record<Exclude<UpdatablePath, "genres">, keyof MovieFields> = {
  imdb_id: "imdbId",
  title: "title",
  original_title: "originalTitle",
  overview: "overview",
  tagline: "tagline",
  release_date: "releaseDate",
  runtime: "runtime",
  budget: "budget",
  revenue: "revenue",
  status: "status",
  tmdb_rating: "tmdbRating",
  tmdb_vote_count: "tmdbVoteCount",
  imdb_rating: "imdbRating",
  poster_path: "posterPath",
  backdrop_path: "backdropPath",
  adult: "adult",
  video: "video",
  original_language: "originalLanguage",
};

/** Turns unique-index violations into CONFLICT naming the field (anything else is rethrown). */
function mapWriteError(e: unknown): never {
  const msg = e instanceof Error ? e.message : "";
  if (/movies_tmdb_id_key/.test(msg)) throw new ConflictError("a movie with this tmdb_id already exists");
  if (/movies_imdb_id_key/.test(msg)) throw new ConflictError("a movie with this imdb_id already exists");
  throw e;
}

async function checkGenres(em: EntityManager, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const rows = await em.execute<{ id: string }[]>("select id::text as id from genres where id = any(array[?]::bigint[])", [ids]);
  const known = new Set(rows.map((r) => r.id));
  const missing = ids.filter((id) => !known.has(id));
  if (missing.length > 0) throw new InvalidInputError(`unknown genre ${missing.join(", ")}`, "genres");
}

async function setGenres(em: EntityManager, movieId: string, ids: readonly string[]): Promise<void> {
  await em.execute("delete from movie_genres where movie_id = ?::bigint", [movieId]);
  if (ids.length > 0) {
    await em.execute("insert into movie_genres (movie_id, genre_id) select ?::bigint, g from unnest(array[?]::bigint[]) g", [movieId, [...new Set(ids)]]);
  }
}

/** Inserts a movie with its genres; CONFLICT when its TMDb or IMDb id is taken. */
export async function createMovie(em: EntityManager, f: MovieFields): Promise<MovieRecord> {
  validateMovieFields(f);
  const id = await em
    .transactional(async (tx) => {
      await checkGenres(tx, f.genreIds);
      const rows = await tx.execute<{ id: string }[]>(
        `insert into movies (tmdb_id, imdb_id, title, original_title, overview, tagline, release_date, runtime, budget, revenue,
                             status, tmdb_rating, tmdb_vote_count, imdb_rating, poster_path, backdrop_path, adult, video, original_language)
         values (?, ?, ?, ?, ?, ?, ?::date, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id::text as id`,
        [
          f.tmdbId, f.imdbId, f.title, f.originalTitle, f.overview, f.tagline, f.releaseDate, f.runtime, f.budget, f.revenue,
          f.status, f.tmdbRating, f.tmdbVoteCount, f.imdbRating, f.posterPath, f.backdropPath, f.adult, f.video, f.originalLanguage,
        ],
      );
      const movieId = rows[0]!.id;
      await setGenres(tx, movieId, f.genreIds);
      await recordAudit(tx, { action: "movie.create", table: "movies", operation: "INSERT", recordId: movieId, after: auditFields(f, undefined) });
      return movieId;
    })
    .catch(mapWriteError);
  return (await findMovie(em, { by: "id", id }))!;
}

/** The audited form of movie fields (snake_case, as the columns): all of them, or only the masked paths. */
function auditFields(f: MovieFields, paths: readonly string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, key] of Object.entries(COLUMNS)) if (!paths || paths.includes(path)) out[path] = f[key];
  if (!paths || paths.includes("genres")) out.genres = [...f.genreIds];
  return out;
}

/** The current writable fields of a movie. */
function fieldsOf(m: MovieRecord): MovieFields {
  return {
    tmdbId: m.tmdbId, imdbId: m.imdbId, title: m.title, originalTitle: m.originalTitle, overview: m.overview, tagline: m.tagline,
    releaseDate: m.releaseDate, runtime: m.runtime, budget: m.budget, revenue: m.revenue, status: m.status, tmdbRating: m.tmdbRating,
    tmdbVoteCount: m.tmdbVoteCount, imdbRating: m.imdbRating, posterPath: m.posterPath, backdropPath: m.backdropPath, adult: m.adult,
    video: m.video, originalLanguage: m.originalLanguage, genreIds: m.genres.map((g) => g.id),
  };
}

/**
 * Changes the fields named in `paths` (proto field names) to their values in `changes`; the
 * result is validated as a whole, so a mask cannot leave the movie invalid. Returns the movie
 * before and after.
 */
export async function updateMovie(
  em: EntityManager,
  movieId: string,
  paths: readonly string[],
  changes: MovieFields,
): Promise<{ before: MovieRecord; after: MovieRecord }> {
  if (paths.length === 0) throw new InvalidInputError("name at least one field", "update_mask");
  for (const p of paths) {
    if (!(UPDATABLE_PATHS as readonly string[]).includes(p)) throw new InvalidInputError(`cannot update ${p}`, "update_mask");
  }
  if (!isDbId(movieId)) throw new NotFoundError("movie", movieId);
  const before = await em
    .transactional(async (tx) => {
      // FOR UPDATE: two concurrent partial updates must not each validate against a stale row.
      const locked = await tx.execute<{ id: string }[]>("select id from movies where id = ?::bigint for update", [movieId]);
      if (locked.length === 0) throw new NotFoundError("movie", movieId);
      const current = (await findMovie(tx, { by: "id", id: movieId }))!;
      const next = fieldsOf(current);
      const sets: string[] = [];
      const params: unknown[] = [];
      for (const p of paths as UpdatablePath[]) {
        if (p === "genres") {
          next.genreIds = [...new Set(changes.genreIds)];
          continue;
        }
        const key = COLUMNS[p];
        (next as unknown as Record<string, unknown>)[key] = changes[key];
        sets.push(`"${p}" = ?${p === "release_date" ? "::date" : ""}`);
        params.push(changes[key]);
      }
      validateMovieFields(next);
      if (paths.includes("genres")) {
        await checkGenres(tx, next.genreIds);
        await setGenres(tx, movieId, next.genreIds);
      }
      sets.push("updated_at = now()");
      await tx.execute(`update movies set ${sets.join(", ")} where id = ?::bigint`, [...params, movieId]);
      const before = fieldsOf(current);
      await recordAudit(tx, {
        action: "movie.update",
        table: "movies",
        operation: "UPDATE",
        recordId: movieId,
        before: auditFields(before, paths),
        after: auditFields(next, paths),
      });
      return current;
    })
    .catch(mapWriteError);
  return { before, after: (await findMovie(em, { by: "id", id: movieId }))! };
}

/** Deletes a movie; credits, genres, interactions and recommendations go with it (ON DELETE CASCADE). */
export async function deleteMovie(em: EntityManager, movieId: string): Promise<MovieRecord> {
  const movie = isDbId(movieId) ? await findMovie(em, { by: "id", id: movieId }) : undefined;
  if (!movie) throw new NotFoundError("movie", movieId);
  await em.transactional(async (tx) => {
    const rows = await tx.execute<{ id: string }[]>("delete from movies where id = ?::bigint returning id", [movieId]);
    if (rows.length === 0) throw new NotFoundError("movie", movieId);
    await recordAudit(tx, { action: "movie.delete", table: "movies", operation: "DELETE", recordId: movieId, before: auditFields(fieldsOf(movie), undefined) });
  });
  return movie;
}
