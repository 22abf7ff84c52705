/**
 * The catalogue's use cases, protobuf-free: reads through the Redis cache where they are hot,
 * writes in PostgreSQL followed by cache invalidation. One EntityManager fork per call.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { ConflictError, NotFoundError } from "../../platform/errors.ts";
import type { Config } from "../../platform/config.ts";
import type { Logger } from "../../platform/logger.ts";
import { forkForReads } from "../../platform/read-replica.ts";
import { CatalogCache, type CatalogCacheOptions } from "./catalog-cache.ts";
import type { GenreRecord, MovieDetails, MovieLookup, MovieRecord, Page, PersonCreditRecord, PersonRecord } from "./catalog-types.ts";
import { decodeCursor, encodeCursor, fingerprint, pageSize } from "./cursor.ts";
import { allGenres } from "./genre-read.ts";
import { batchGetMovies, loadMovieDetails } from "./movie-details.ts";
import { type ListMoviesQuery, listMovies, normalizeListQuery } from "./movie-list.ts";
import { type SearchMoviesQuery, searchMovies } from "./movie-search.ts";
import { type MovieFields } from "./movie-validation.ts";
import { createMovie, deleteMovie, updateMovie } from "./movie-write.ts";
import { type CreditKind, type PersonLookup, findPerson, knownFor, listPersonCredits } from "./person-read.ts";

export interface CatalogServiceDeps {
  orm: MikroORM;
  redis: Redis;
  log: Logger;
  cache?: Omit<CatalogCacheOptions, "redis" | "log">;
  /** DATABASE_READ_YOUR_WRITES_MS: how long after a write the cache loads its misses from the primary. */
  config?: Partial<Pick<Config, "readYourWritesMs">>;
}

export type CatalogService = ReturnType<typeof createCatalogService>;

/** Builds the catalogue's use cases over PostgreSQL and the Redis cache. */
export function createCatalogService(deps: CatalogServiceDeps) {
  const freshMs = deps.config?.readYourWritesMs;
  const cache = new CatalogCache({ redis: deps.redis, log: deps.log, ...(freshMs !== undefined ? { freshMs } : {}), ...deps.cache });
  const em = () => deps.orm.em.fork();
  // Catalogue reads tolerate replication lag: a replica when DATABASE_REPLICA_URLS names one (writes: the primary),
  // except a cache miss right after a write, whose answer would be cached (catalog-cache.ts).
  const reads = (fromPrimary = false) => (fromPrimary ? em() : forkForReads(deps.orm));

  /** Details by database id through the cache. */
  const detailsById = async (id: string) => (await cache.movie<MovieDetails>(id, (fromPrimary) => loadMovieDetails(reads(fromPrimary), { by: "id", id }))).value;

  return {
    cache,

    /** GetMovie: by id through the cache; TMDb/IMDb ids through a verified alias to the id. */
    async getMovie(lookup: MovieLookup, maxCast = 0): Promise<MovieDetails> {
      let details: MovieDetails | undefined;
      if (lookup.by === "id") {
        details = await detailsById(lookup.id);
      } else {
        const [kind, key] = lookup.by === "tmdb" ? (["tmdb", lookup.tmdbId] as const) : (["imdb", lookup.imdbId] as const);
        const matches = (d: MovieDetails | undefined) => d !== undefined && (kind === "tmdb" ? d.movie.tmdbId === key : d.movie.imdbId === key);
        const aliased = await cache.alias(kind, key);
        if (aliased !== undefined) {
          details = await detailsById(aliased);
          // The alias may be stale (movie deleted, IMDb id edited): trust only what the row says.
          if (!matches(details)) {
            cache.forgetAlias(kind, key);
            details = undefined;
          }
        }
        if (!details) {
          details = await loadMovieDetails(reads(), lookup);
          if (details) cache.rememberAlias(kind, key, details.movie.id);
        }
      }
      if (!details) throw new NotFoundError("movie", lookup.by === "id" ? lookup.id : lookup.by === "tmdb" ? `tmdb:${lookup.tmdbId}` : lookup.imdbId);
      return maxCast > 0 && details.cast.length > maxCast ? { ...details, cast: details.cast.slice(0, maxCast) } : details;
    },

    /** BatchGetMovies: request order kept, missing ids reported. */
    batchGetMovies(ids: readonly string[]) {
      return batchGetMovies(reads(), ids);
    },

    /** ListMovies; first pages are cached per filter/order/size. */
    async listMovies(q: ListMoviesQuery): Promise<Page<MovieRecord>> {
      if (q.pageToken) return listMovies(reads(), q);
      const name = fingerprint(["first-page", normalizeListQuery(q), pageSize(q.pageSize)]);
      return (await cache.list(name, (fromPrimary) => listMovies(reads(fromPrimary), q))).value;
    },

    searchMovies(q: SearchMoviesQuery): Promise<Page<MovieRecord>> {
      return searchMovies(reads(), q);
    },

    /** ListGenres from the cached full list; page size 0 means everything. */
    async listGenres(q: { pageSize?: number; pageToken?: string }): Promise<Page<GenreRecord>> {
      const genres = (await cache.list("genres", (fromPrimary) => allGenres(reads(fromPrimary)))).value;
      const fp = fingerprint(["genres"]);
      const cursor = decodeCursor(q.pageToken ?? "", fp);
      const after = cursor
        ? genres.filter((g) => g.name > String(cursor.key) || (g.name === cursor.key && BigInt(g.id) > BigInt(cursor.id)))
        : genres;
      const size = q.pageSize ? pageSize(q.pageSize, 1000) : after.length;
      const items = after.slice(0, size);
      const last = items[items.length - 1];
      return { items, nextPageToken: after.length > size && last ? encodeCursor({ key: last.name, id: last.id }, fp) : "" };
    },

    async getPerson(lookup: PersonLookup): Promise<{ person: PersonRecord; knownFor: MovieRecord[] }> {
      const fork = reads();
      const person = await findPerson(fork, lookup);
      if (!person) throw new NotFoundError("person", lookup.by === "id" ? lookup.id : `tmdb:${lookup.tmdbId}`);
      return { person, knownFor: await knownFor(fork, person.id) };
    },

    async listPersonCredits(q: { personId: string; kind?: CreditKind; pageSize?: number; pageToken?: string }): Promise<Page<PersonCreditRecord>> {
      const fork = reads();
      if (!(await findPerson(fork, { by: "id", id: q.personId }))) throw new NotFoundError("person", q.personId);
      return listPersonCredits(fork, q);
    },

    /**
     * CreateMovie. With a request id, a retry of a create that already succeeded (same request id,
     * same TMDb id) returns the movie created the first time instead of CONFLICT.
     */
    async createMovie(fields: MovieFields, requestId = ""): Promise<MovieRecord> {
      const key = requestId ? `catalog:create-request:${fingerprint(requestId)}` : undefined;
      try {
        const movie = await createMovie(em(), fields);
        if (key) await deps.redis.set(key, movie.id, "EX", 86_400).catch(() => undefined);
        await cache.invalidateMovies([movie.id]);
        return movie;
      } catch (e) {
        if (!(e instanceof ConflictError) || !key) throw e;
        const firstId = await deps.redis.get(key).catch(() => null);
        if (firstId === null) throw e;
        const first = await batchGetMovies(em(), [firstId]);
        const movie = first.movies[0];
        if (!movie || movie.tmdbId !== fields.tmdbId) throw e;
        return movie;
      }
    },

    async updateMovie(movieId: string, paths: readonly string[], changes: MovieFields): Promise<MovieRecord> {
      const { after } = await updateMovie(em(), movieId, paths, changes);
      await cache.invalidateMovies([movieId]);
      return after;
    },

    async deleteMovie(movieId: string): Promise<void> {
      await deleteMovie(em(), movieId);
      await cache.invalidateMovies([movieId]);
    },
  };
}
