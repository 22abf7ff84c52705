/**
 * Processors of the `catalog-import` queue. The TMDb client, its Redis rate limit and a small `pg` pool
 * are built once per worker process on the first job. An invalid API key fails the job at once
 * (UnrecoverableError: retrying cannot fix it); other failures let BullMQ retry with backoff, which is
 * safe because every write is an idempotent upsert.
 */
import { UnrecoverableError, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Config } from "../../platform/config.ts";
import type { Logger } from "../../platform/logger.ts";
import { CatalogCache } from "./catalog-cache.ts";
import { OmdbClient } from "./import-omdb.ts";
import { openImportPool } from "./import-sql.ts";
import { runTmdbImport, TMDB_IMPORT_JOB, type TmdbImportParams } from "./import-job.ts";
import { TmdbAuthError, TmdbClient } from "./tmdb-client.ts";
import { redisRateLimiter } from "./tmdb-rate-limit.ts";

/** What the processors need (the worker's AppDeps provide it). */
export interface CatalogJobDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly redis: Redis;
  /**
   * Told the database ids of the movies an import changed (`[]`: only genres or lists changed).
   * Default: the catalogue cache drops those movies and every cached list.
   */
  readonly onMoviesChanged?: (movieIds: string[]) => Promise<void>;
}

type Processor = (job: Job, log: Logger) => Promise<unknown>;

/** Redis key of the shared TMDb token bucket (under the deployment's key prefix). */
export const TMDB_RATE_KEY = "catalog:tmdb:rate";

/** A TMDb client from the configuration, rate-limited through Redis; undefined without credentials. */
export function tmdbClientFromConfig(deps: Pick<CatalogJobDeps, "config" | "redis" | "log">, overrides: { baseDelayMs?: number } = {}): TmdbClient | undefined {
  const c = deps.config.tmdb;
  if (!c.apiKey && !c.bearerToken) return undefined;
  const limiter = redisRateLimiter(deps.redis, {
    key: TMDB_RATE_KEY,
    rate: c.requestsPerSecond,
    onDegraded: (err) => deps.log.warn({ err: (err as Error).message }, "TMDb rate limit: Redis unavailable, limiting per process"),
  });
  return new TmdbClient({
    baseUrl: c.baseUrl,
    apiKey: c.apiKey,
    bearerToken: c.bearerToken,
    limiter,
    ...overrides,
    onRetry: (info) => deps.log.info(info, "TMDb request retried"),
  });
}

/** The OMDb client when OMDB_API_KEY is set. */
export function omdbClientFromConfig(config: Config): OmdbClient | undefined {
  const { omdbApiKey, omdbBaseUrl } = config.tmdb;
  return omdbApiKey ? new OmdbClient({ baseUrl: omdbBaseUrl, apiKey: omdbApiKey }) : undefined;
}

/** The `catalog-import` processors by job name. */
export function createCatalogImportProcessors(deps: CatalogJobDeps, opts: { baseDelayMs?: number } = {}): Record<string, Processor> {
  let pool: pg.Pool | undefined;
  let tmdb: TmdbClient | undefined;
  const cache = new CatalogCache({ redis: deps.redis, log: deps.log, freshMs: deps.config.readYourWritesMs });
  const onChanged = deps.onMoviesChanged ?? ((ids: string[]) => cache.invalidateMovies(ids));
  return {
    async [TMDB_IMPORT_JOB](job, log) {
      tmdb ??= tmdbClientFromConfig({ ...deps, log }, opts);
      if (!tmdb) throw new UnrecoverableError("TMDb is not configured: set TMDB_API_KEY or TMDB_BEARER_TOKEN");
      pool ??= openImportPool(deps.config.databaseUrl, 2);
      const params = job.data as TmdbImportParams;
      try {
        const progress = await runTmdbImport(params, {
          tmdb,
          pool,
          omdb: omdbClientFromConfig(deps.config),
          onProgress: (p) => job.updateProgress({ ...p, errors: [...p.errors] }),
          onChanged,
        });
        log.info({ ...progress, errors: progress.errors.length }, "TMDb import finished");
        return progress;
      } catch (e) {
        if (e instanceof TmdbAuthError) throw new UnrecoverableError(e.message);
        throw e;
      }
    },
  };
}
