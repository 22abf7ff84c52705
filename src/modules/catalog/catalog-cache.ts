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
 * With read replicas a miss right after a write must not load from a replica that has not replayed the write yet:
 * it would store the old row under the new generation, stale until its TTL. So a write also marks its scopes
 * fresh for `freshMs` (the replication-lag bound, DATABASE_READ_YOUR_WRITES_MS), and a miss on a fresh scope asks
 * its loader for the primary's rows.
 *
 * Redis is an optimisation: every call is bounded by a short timeout and any failure falls back to
 * PostgreSQL. If a generation bump itself fails (Redis down during a write), entries expire on
 * their TTL, which bounds how stale a read can be after an outage.
 */
import type { Redis } from "ioredis";
import { onInvalidation, publishInvalidation } from "../../platform/cache-invalidation.ts";
import { deepFreeze, LocalCache } from "../../platform/local-cache.ts";
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
  /** How long after a write its scopes' misses load from the primary (ms; default 5000; 0 never). */
  freshMs?: number;
  /**
   * How long this process may answer from its own copy of a value it read (ms; default 0: always ask Redis). Writes
   * anywhere drop the copies at once (platform/cache-invalidation.ts); the time bounds what a lost message costs.
   */
  localMs?: number;
}

/** Loads a value on a miss; `fromPrimary` when the scope was written within `freshMs` (a replica may lag behind). */
export type CacheLoader<T> = (fromPrimary: boolean) => Promise<T>;

// Reads a scope's generation, the value stored under it and whether the scope was written lately, in one round
// trip. A missing generation is "0". KEYS[1] = generation key, KEYS[2] = value key without its generation. The
// derived keys keep their base key's hash tag, so in a cluster they share its slot.
const VERSIONED_GET = `local g = redis.call('GET', KEYS[1]) or '0'
return {g, redis.call('GET', KEYS[2] .. ':' .. g), redis.call('EXISTS', KEYS[1] .. ':fresh')}`;
const freshKey = (scope: string) => `${scope}:fresh`;

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
const INVALIDATION = "catalog";
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
  readonly #freshMs: number;
  /** Local copies by scope (a movie, the lists), when `localMs` > 0. */
  readonly #local: LocalCache<unknown> | undefined;
  #lastWarn = 0;

  constructor(opts: CatalogCacheOptions) {
    this.#redis = opts.redis;
    this.#log = opts.log;
    this.#movieTtl = opts.movieTtlSeconds ?? 600;
    this.#listTtl = opts.listTtlSeconds ?? 60;
    this.#timeoutMs = opts.timeoutMs ?? 150;
    this.#freshMs = opts.freshMs ?? 5000;
    if ((opts.localMs ?? 0) > 0) {
      const local = new LocalCache<unknown>({ ttlMs: opts.localMs! });
      this.#local = local;
      onInvalidation(this.#redis, INVALIDATION, (scopes) => local.invalidate(scopes));
    }
  }

  /** A movie's details by database id, loaded by `load` on a miss (undefined results are not cached). */
  movie<T>(id: string, load: CacheLoader<T | undefined>): Promise<{ value: T | undefined; outcome: CacheOutcome }> {
    return this.#cached(movieScope(id), catalogKeys.movie(id), this.#movieTtl, load);
  }

  /** A list-shaped value (a first page, the genre list) under `name`. */
  list<T>(name: string, load: CacheLoader<T>): Promise<{ value: T; outcome: CacheOutcome }> {
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
    // One bump per scope, not a MULTI: the scopes live in different slots of a cluster, and each bump stands alone
    // (a reader only compares its own scope). ioredis writes them all before the first answer comes back.
    const scopes = [...ids.map(movieScope), LISTS_SCOPE];
    this.#local?.invalidate(scopes);
    const ok = await this.#try(() => Promise.all([...scopes.map((scope) => this.#bump(scope)), publishInvalidation(this.#redis, INVALIDATION, scopes)]));
    if (ok === undefined) this.#log.warn({ movies: ids.length }, "catalog cache invalidation failed; entries expire on their TTL");
  }

  /** After a write that changes lists or genres only (e.g. a genre import). */
  async invalidateLists(): Promise<void> {
    this.#local?.invalidate([LISTS_SCOPE]);
    const ok = await this.#try(() => Promise.all([this.#bump(LISTS_SCOPE), publishInvalidation(this.#redis, INVALIDATION, [LISTS_SCOPE])]));
    if (ok === undefined) this.#log.warn("catalog cache invalidation failed; entries expire on their TTL");
  }

  /**
   * A new generation for `scope`, marked fresh first: a reader that sees the new generation sees the mark too (one
   * connection's commands apply in order, and the two keys share a slot), so it cannot fill the new generation
   * from a lagging replica.
   */
  async #bump(scope: string): Promise<number> {
    if (this.#freshMs > 0) void this.#redis.set(freshKey(scope), "1", "PX", this.#freshMs).catch(() => undefined);
    return this.#redis.incr(scope);
  }

  async #cached<T>(scope: string, key: string, ttl: number, load: CacheLoader<T | undefined>): Promise<{ value: T | undefined; outcome: CacheOutcome }> {
    const kept = this.#local?.get(scope, key) as T | undefined;
    if (kept !== undefined) return { value: kept, outcome: "hit" };
    const ticket = this.#local?.ticket();
    const got = await this.#try(() => this.#redis.eval(VERSIONED_GET, 2, scope, key) as Promise<[string, string | null, number]>);
    // Redis unreachable: nothing is stored, so a lagging replica's answer cannot stick; it serves this one read.
    if (got === undefined) return { value: await load(false), outcome: "bypass" };
    const [generation, raw, fresh] = got;
    if (raw !== null) {
      try {
        const value = JSON.parse(raw) as T;
        // Shared by every call answered from the local copy: frozen, so no caller can change another's answer.
        if (this.#local && ticket) this.#local.set(scope, key, deepFreeze(value), ticket);
        return { value, outcome: "hit" };
      } catch {
        // A corrupt entry is treated as a miss and overwritten below.
      }
    }
    const value = await load(fresh === 1);
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
