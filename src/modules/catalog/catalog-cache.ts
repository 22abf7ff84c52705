/**
 * The catalogue's Redis cache: GetMovie by id, ListGenres, and the first page of every ListMovies
 * variant. Values are the module's JSON records, so a hit costs one round trip and no SQL.
 *
 * Invalidation by generation rather than by deleting keys: a reader reads the generation of its
 * scope and the value stored under it in one Lua round trip, and stores what it loads under the
 * generation it read *before* querying PostgreSQL; a writer bumps the generation after commit. So a
 * read racing a write can only store the old row under the old generation, which nobody reads
 * again — deleting keys instead would let that read put the stale row back. Scopes: one per movie,
 * and one for everything list-shaped (lists, genres), which any catalogue write may change.
 *
 * Redis is an optimisation: every call is bounded by a short timeout and any failure falls back to
 * PostgreSQL. If a generation bump itself fails (Redis down during a write), entries expire on
 * their TTL, which bounds how stale a read can be after an outage.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../../platform/logger.ts";
import { hashTag } from "../../platform/redis.ts";
import { withTimeout } from "../../platform/timeout.ts";

export interface CatalogCacheOptions {
  redis: Redis;
  log: Logger;
  /** TTL of a cached movie (seconds). */
  movieTtlSeconds?: number;
  /** TTL of cached lists and genres (seconds); they also change when popularity is recomputed. */
  listTtlSeconds?: number;
  /** Longest wait for Redis before going to PostgreSQL (ms). */
  timeoutMs?: number;
}

// Reads a scope's generation and the value stored under it, in one round trip. A missing
// generation is "0". KEYS[1] = generation key, KEYS[2] = value key without its generation.
const VERSIONED_GET = `local g = redis.call('GET', KEYS[1]) or '0'
return {g, redis.call('GET', KEYS[2] .. ':' .. g)}`;

/**
 * The cache's keys. A scope's generation and the values stored under it are read in one Lua call, so they share a
 * hash tag (platform/redis.ts hashTag): one per movie (movies spread over a cluster's slots), one for the lists.
 */
export const catalogKeys = {
  movieGeneration: (id: string) => `catalog:gen:movie:${hashTag(`m${id}`)}`,
  movie: (id: string) => `catalog:movie:${hashTag(`m${id}`)}`,
  listsGeneration: `catalog:gen:${hashTag("catalog-lists")}`,
  list: (name: string) => `catalog:list:${hashTag("catalog-lists")}:${name}`,
  alias: (kind: "tmdb" | "imdb", key: string | number) => `catalog:alias:${kind}:${key}`,
};
const LATE = Symbol("late");
const LISTS_SCOPE = catalogKeys.listsGeneration;
const movieScope = catalogKeys.movieGeneration;

/** Outcome of a cached read, for tests and metrics. */
export type CacheOutcome = "hit" | "miss" | "bypass";

export class CatalogCache {
  readonly #redis: Redis;
  readonly #log: Logger;
  readonly #movieTtl: number;
  readonly #listTtl: number;
  readonly #timeoutMs: number;
  #lastWarn = 0;

  constructor(opts: CatalogCacheOptions) {
    this.#redis = opts.redis;
    this.#log = opts.log;
    this.#movieTtl = opts.movieTtlSeconds ?? 600;
    this.#listTtl = opts.listTtlSeconds ?? 60;
    this.#timeoutMs = opts.timeoutMs ?? 150;
  }

  /** A movie's details by database id, loaded by `load` on a miss (undefined results are not cached). */
  movie<T>(id: string, load: () => Promise<T | undefined>): Promise<{ value: T | undefined; outcome: CacheOutcome }> {
    return this.#cached(movieScope(id), catalogKeys.movie(id), this.#movieTtl, load);
  }

  /** A list-shaped value (a first page, the genre list) under `name`. */
  list<T>(name: string, load: () => Promise<T>): Promise<{ value: T; outcome: CacheOutcome }> {
    return this.#cached(LISTS_SCOPE, catalogKeys.list(name), this.#listTtl, load) as Promise<{ value: T; outcome: CacheOutcome }>;
  }

  /** The movie id a TMDb or IMDb id resolved to before (callers verify it), or undefined. */
  async alias(kind: "tmdb" | "imdb", key: string | number): Promise<string | undefined> {
    const v = await this.#try(() => this.#redis.get(catalogKeys.alias(kind, key)));
    return typeof v === "string" ? v : undefined;
  }

  /** Remembers which movie a TMDb or IMDb id names. */
  rememberAlias(kind: "tmdb" | "imdb", key: string | number, movieId: string): void {
    void this.#try(() => this.#redis.set(catalogKeys.alias(kind, key), movieId, "EX", this.#movieTtl));
  }

  /** Forgets an alias that no longer holds. */
  forgetAlias(kind: "tmdb" | "imdb", key: string | number): void {
    void this.#try(() => this.#redis.del(catalogKeys.alias(kind, key)));
  }

  /** After a write to these movies commits: their cached details and every cached list are stale. */
  async invalidateMovies(ids: readonly string[]): Promise<void> {
    // One INCR per scope, not a MULTI: the scopes live in different slots of a cluster, and each bump stands alone
    // (a reader only compares its own scope). ioredis writes them all before the first answer comes back.
    const ok = await this.#try(() => Promise.all([...ids.map((id) => this.#redis.incr(movieScope(id))), this.#redis.incr(LISTS_SCOPE)]));
    if (ok === undefined) this.#log.warn({ movies: ids.length }, "catalog cache invalidation failed; entries expire on their TTL");
  }

  /** After a write that changes lists or genres only (e.g. a genre import). */
  async invalidateLists(): Promise<void> {
    const ok = await this.#try(() => this.#redis.incr(LISTS_SCOPE));
    if (ok === undefined) this.#log.warn("catalog cache invalidation failed; entries expire on their TTL");
  }

  async #cached<T>(scope: string, key: string, ttl: number, load: () => Promise<T | undefined>): Promise<{ value: T | undefined; outcome: CacheOutcome }> {
    const got = await this.#try(() => this.#redis.eval(VERSIONED_GET, 2, scope, key) as Promise<[string, string | null]>);
    if (got === undefined) return { value: await load(), outcome: "bypass" };
    const [generation, raw] = got;
    if (raw !== null) {
      try {
        return { value: JSON.parse(raw) as T, outcome: "hit" };
      } catch {
        // A corrupt entry is treated as a miss and overwritten below.
      }
    }
    const value = await load();
    if (value !== undefined) void this.#try(() => this.#redis.set(`${key}:${generation}`, JSON.stringify(value), "EX", ttl));
    return { value, outcome: "miss" };
  }

  /** Runs a Redis call with a deadline; undefined on any failure (logged at most every 10 s). */
  async #try<T>(op: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await withTimeout<T | typeof LATE>(op(), this.#timeoutMs, LATE);
      if (result === LATE) throw new Error(`redis did not answer within ${this.#timeoutMs} ms`);
      return result;
    } catch (err) {
      const now = Date.now();
      if (now - this.#lastWarn > 10_000) {
        this.#lastWarn = now;
        this.#log.warn({ err }, "catalog cache unavailable; reading PostgreSQL");
      }
      return undefined;
    }
  }
}
