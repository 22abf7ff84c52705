/**
 * Local infrastructure bootstrap for `npm run demo` (and tests of it): finds or
 * starts the PostgreSQL and Redis the system needs, so a fresh Debian/Ubuntu
 * machine with Node needs nothing else.
 *
 * Order of preference for each service: an explicit URL; the conventional local
 * server (PostgreSQL on 5432, Redis on 6379); one started here — an embedded
 * PostgreSQL from npm packages, a private `redis-server` child process.
 */
import { join, resolve } from "node:path";
import { ensureDatabase, probePostgres, startEmbeddedPostgres, type EmbeddedPostgresHandle } from "./dev-infra-postgres.ts";
import { findOrInstallRedisServer, probeRedis, startRedisServer, type RedisServerHandle } from "./dev-infra-redis.ts";

/** The conventional local PostgreSQL server, tried before starting an embedded one. */
export const DEFAULT_POSTGRES_PROBE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
/** The conventional local Redis, tried before starting a private one. */
export const DEFAULT_REDIS_PROBE_URL = "redis://127.0.0.1:6379";
/** Database created on a discovered or embedded server. */
export const DEMO_DATABASE = "movierec";

export interface EnsureInfrastructureOptions {
  /** Use this PostgreSQL database as is; fails if it does not answer. */
  databaseUrl?: string;
  /** Use this Redis as is; fails if it does not answer. */
  redisUrl?: string;
  /** Where started services keep their files: `<dataDir>/postgres`, `<dataDir>/redis`. */
  dataDir: string;
  /** Progress messages for a person watching; defaults to silence. */
  log?: (msg: string) => void;
  /** Server probed when no databaseUrl is given (tests point it at a closed port to force the embedded path). */
  probePostgresUrl?: string;
  /** Redis probed when no redisUrl is given (tests point it at a closed port to force a private redis-server). */
  probeRedisUrl?: string;
  /** false: skip the conventional local servers and always start private ones (isolated demo). Default true. */
  useLocalServers?: boolean;
  /** Name of the database created on a discovered or embedded server; defaults to `movierec`. */
  databaseName?: string;
  /** Port of an embedded PostgreSQL this call starts (default: a free one). */
  postgresPort?: number | undefined;
  /** Port of a private redis-server this call starts (default: a free one). */
  redisPort?: number | undefined;
}

export interface Infrastructure {
  databaseUrl: string;
  redisUrl: string;
  /** True when an embedded PostgreSQL was started (and stop() will stop it). */
  startedPostgres: boolean;
  /** True when a private redis-server was started (and stop() will stop it). */
  startedRedis: boolean;
  /** Stops only what this call started; safe to call twice. */
  stop(): Promise<void>;
}

/** Finds or starts PostgreSQL and Redis; see the module comment for the order of preference. */
export async function ensureInfrastructure(opts: EnsureInfrastructureOptions): Promise<Infrastructure> {
  const log = opts.log ?? (() => {});
  const dataDir = resolve(opts.dataDir);
  const databaseName = opts.databaseName ?? DEMO_DATABASE;
  const useLocal = opts.useLocalServers ?? true;

  let embedded: EmbeddedPostgresHandle | undefined;
  let redisServer: RedisServerHandle | undefined;
  const stop = async (): Promise<void> => {
    // Reverse start order; each handle's stop() is idempotent.
    const errors: unknown[] = [];
    for (const handle of [redisServer, embedded]) {
      try {
        await handle?.stop();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, "stopping local infrastructure failed");
  };

  try {
    let databaseUrl: string;
    if (opts.databaseUrl !== undefined) {
      const problem = await probePostgres(opts.databaseUrl);
      if (problem !== undefined) throw new Error(`PostgreSQL at ${redact(opts.databaseUrl)} is not reachable: ${problem}`);
      databaseUrl = opts.databaseUrl;
      log(`PostgreSQL: using ${redact(databaseUrl)}`);
    } else {
      const probeUrl = opts.probePostgresUrl ?? DEFAULT_POSTGRES_PROBE_URL;
      // Not probed at all when private servers are asked for: whatever runs there is neither used nor judged.
      const problem = useLocal ? await probePostgres(probeUrl) : undefined;
      if (useLocal && problem === undefined) {
        databaseUrl = await ensureDatabase(probeUrl, databaseName);
        log(`PostgreSQL: found a local server, using ${redact(databaseUrl)}`);
      } else {
        log(useLocal ? `PostgreSQL: none usable at ${redact(probeUrl)} (${problem}); starting an embedded one` : "PostgreSQL: private servers requested (--private); starting an embedded one");
        embedded = await startEmbeddedPostgres({ dir: join(dataDir, "postgres"), log, port: opts.postgresPort });
        databaseUrl = await ensureDatabase(embedded.serverUrl, databaseName);
        log(`PostgreSQL: embedded server on port ${embedded.port}, data in ${join(dataDir, "postgres")}`);
      }
    }

    let redisUrl: string;
    if (opts.redisUrl !== undefined) {
      const problem = await probeRedis(opts.redisUrl);
      if (problem !== undefined) throw new Error(`Redis at ${redact(opts.redisUrl)} is not reachable: ${problem}`);
      redisUrl = opts.redisUrl;
      log(`Redis: using ${redact(redisUrl)}`);
    } else {
      const probeUrl = opts.probeRedisUrl ?? DEFAULT_REDIS_PROBE_URL;
      const problem = useLocal ? await probeRedis(probeUrl) : undefined;
      if (useLocal && problem === undefined) {
        redisUrl = probeUrl;
        log(`Redis: found a local server at ${redact(redisUrl)}`);
      } else {
        log(useLocal ? `Redis: none at ${redact(probeUrl)} (${problem}); starting a private redis-server` : "Redis: private servers requested (--private); starting a private redis-server");
        const binary = findOrInstallRedisServer(log);
        redisServer = await startRedisServer({ binary, dir: join(dataDir, "redis"), log, port: opts.redisPort });
        redisUrl = redisServer.url;
        log(`Redis: private redis-server (pid ${redisServer.pid}) on port ${redisServer.port}, no persistence`);
      }
    }

    return { databaseUrl, redisUrl, startedPostgres: embedded !== undefined, startedRedis: redisServer !== undefined, stop };
  } catch (err) {
    // Half-started infrastructure must not outlive the failure.
    await stop().catch(() => {});
    throw err;
  }
}

/** A URL fit for logs: the password replaced by `***`. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "<invalid URL>";
  }
}
