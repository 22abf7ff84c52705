/** Starts the real API server on a random port against this run's PostgreSQL and Redis. */
import { inject } from "vitest";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { createLogger } from "../../src/platform/logger.ts";
import { openOrm } from "../../src/platform/orm.ts";
import { createRedis, pingRedis } from "../../src/platform/redis.ts";
import { withTimeout } from "../../src/platform/timeout.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import type { Probe } from "../../src/server/health.ts";
import type { ApiImpls } from "../../src/server/services.ts";

export interface TestServer {
  server: RunningServer;
  baseUrl: string;
  grpcAddress: string;
  orm: MikroORM;
  redis: Redis;
  close(): Promise<void>;
}

export async function startTestServer(opts: { impls?: ApiImpls; probes?: Record<string, Probe>; corsOrigins?: string[]; healthIntervalMs?: number } = {}): Promise<TestServer> {
  const orm = await openOrm(inject("databaseUrl"), { poolMax: 4 });
  const redis = createRedis(inject("redisUrl"), { name: "movierec-test" });
  redis.on("error", () => {});
  const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const server = await startServer({
    config: { host: "127.0.0.1", port: 0, corsOrigins: opts.corsOrigins ?? ["https://app.example.com"], healthIntervalMs: opts.healthIntervalMs ?? 1000, shutdownGraceMs: 2000 },
    log,
    probes: opts.probes ?? {
      postgres: () => withTimeout(orm.em.getConnection().execute("select 1").then(() => true, () => false), 2000, false),
      redis: () => pingRedis(redis, 1000),
    },
    impls: opts.impls,
  });
  return {
    server,
    orm,
    redis,
    baseUrl: `http://127.0.0.1:${server.port}`,
    grpcAddress: `127.0.0.1:${server.port}`,
    async close() {
      await server.close();
      await orm.close();
      redis.disconnect();
    },
  };
}
