import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import type { Config } from "../platform/config.ts";
import { DependencyLog } from "../platform/dependency-log.ts";
import type { Logger } from "../platform/logger.ts";
import { openOrm } from "../platform/orm.ts";
import { createQueues, type Queues } from "../platform/queues.ts";
import { createRedis, pingRedis } from "../platform/redis.ts";
import { withTimeout } from "../platform/timeout.ts";
import type { Probe } from "./health.ts";

/** What the RPC modules are built from: opened once per process, closed on shutdown. */
export interface AppDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly orm: MikroORM;
  /** Cache and rate-limit client; keys are prefixed with `config.redisPrefix`. */
  readonly redis: Redis;
  readonly queues: Queues;
  /** Where every client reports its dependency going away and coming back: one log line per change. */
  readonly dependencies: DependencyLog;
  /**
   * Registers work to finish before the connections close (buffers to flush: impressions); runs in closeAppDeps,
   * after the server has drained its calls, newest registration first.
   */
  readonly onClose: (fn: () => Promise<void>) => void;
}

/** Opens PostgreSQL, Redis and the queue producers. */
export async function openAppDeps(config: Config, log: Logger): Promise<AppDeps> {
  const dependencies = new DependencyLog(log);
  const orm = await openOrm(config.databaseUrl, { poolMax: config.dbPoolMax, replicaUrls: config.databaseReplicaUrls, dependencies });
  const redis = createRedis(config.redisUrl, { keyPrefix: `${config.redisPrefix}:`, name: "movierec-api" });
  // ioredis emits an error per reconnection attempt and reconnects by itself: one line when it goes, one when back.
  redis.on("error", (err) => dependencies.down("redis", err));
  redis.on("ready", () => dependencies.up("redis"));
  const queues = createQueues(config.redisUrl, config.redisPrefix, (err) => dependencies.down("redis", err));
  const closers: (() => Promise<void>)[] = [];
  const deps: AppDeps = { config, log, orm, redis, queues, dependencies, onClose: (fn) => void closers.unshift(fn) };
  closersOf.set(deps, closers);
  return deps;
}

/** What each AppDeps registered through onClose. */
const closersOf = new WeakMap<AppDeps, (() => Promise<void>)[]>();

export async function closeAppDeps(deps: AppDeps): Promise<void> {
  for (const close of (closersOf.get(deps) ?? []).splice(0)) {
    await close().catch((err: unknown) => deps.log.warn({ err: String(err) }, "shutdown step failed"));
  }
  await deps.queues.close();
  await deps.orm.close();
  deps.redis.disconnect();
}

/** The dependency checks behind grpc.health.v1. */
export function dependencyProbes(deps: Pick<AppDeps, "orm" | "redis">): Record<string, Probe> {
  return {
    postgres: () => withTimeout(deps.orm.em.getConnection().execute("select 1").then(() => true, () => false), 2000, false),
    redis: () => pingRedis(deps.redis, 1000),
  };
}
