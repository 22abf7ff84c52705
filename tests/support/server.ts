/** Starts the real API server on a random port against this run's PostgreSQL and Redis. */
import { inject } from "vitest";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { loadConfig } from "../../src/platform/config.ts";
import { isClusterUrl, pingRedis } from "../../src/platform/redis.ts";
import { createLogger, type Logger } from "../../src/platform/logger.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { closeAppDeps, dependencyProbes, openAppDeps, type AppDeps } from "../../src/server/app-deps.ts";
import { buildAuthenticator, buildImpls } from "../../src/server/impls.ts";
import type { Probe } from "../../src/server/health.ts";
import type { ApiImpls } from "../../src/server/services.ts";

export interface TestServer {
  server: RunningServer;
  deps: AppDeps;
  baseUrl: string;
  grpcAddress: string;
  orm: MikroORM;
  redis: Redis;
  close(): Promise<void>;
}

/**
 * The run's key prefix, or for a server on a database of its own a prefix of that database's: caches are keyed by
 * row ids (movie 1, the trending list), and another database's cached rows must not answer for this one's.
 */
function prefixFor(databaseUrl: string | undefined): string {
  const shared = inject("redisPrefix");
  if (!databaseUrl || databaseUrl === inject("databaseUrl")) return shared;
  return `${shared}${new URL(databaseUrl).pathname.slice(1).replace(/[^A-Za-z0-9]/g, "")}`;
}

/** The configuration a test server runs with: this run's database, Redis db and key prefix. */
export function testConfig(env: Record<string, string> = {}) {
  return loadConfig({
    NODE_ENV: "test",
    DATABASE_URL: inject("databaseUrl"),
    REDIS_URL: inject("redisUrl"),
    REDIS_PREFIX: prefixFor(env.DATABASE_URL),
    HOST: "127.0.0.1",
    PORT: "0",
    CORS_ORIGINS: "https://app.example.com",
    DB_POOL_MAX: "4",
    ...env,
  });
}

/**
 * The real server with the real modules (or the given impls) on a random port.
 * `env` overrides configuration variables, as an operator would.
 */
export async function startTestServer(
  opts: { impls?: ApiImpls; probes?: Record<string, Probe>; healthIntervalMs?: number; env?: Record<string, string>; log?: Logger } = {},
): Promise<TestServer> {
  const config = testConfig({ HEALTH_INTERVAL_MS: String(opts.healthIntervalMs ?? 1000), SHUTDOWN_GRACE_MS: "2000", ...opts.env });
  // A test that reads what the server logs passes its own logger (see tests/server/log-capture.ts).
  const log = opts.log ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const deps = await openAppDeps(config, log);
  // A cluster client is ready only once it has discovered the slots; commands before that fail (no offline queue).
  if (isClusterUrl(config.redisUrl)) await pingRedis(deps.redis, 30_000);
  const server = await startServer({
    config,
    log,
    probes: opts.probes ?? dependencyProbes(deps),
    impls: opts.impls ?? buildImpls(deps),
    authenticate: buildAuthenticator(deps),
  });
  return {
    server,
    deps,
    orm: deps.orm,
    redis: deps.redis,
    baseUrl: `http://127.0.0.1:${server.port}`,
    grpcAddress: `127.0.0.1:${server.port}`,
    async close() {
      await server.close();
      await closeAppDeps(deps);
    },
  };
}
