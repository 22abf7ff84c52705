/**
 * Reads that tolerate replication lag, on a PostgreSQL streaming replica (DATABASE_REPLICA_URLS → MikroORM
 * `replicas`). The ORM is opened with `preferReadReplicas: false`, so everything reads the primary unless it asks:
 * a query reaching a replica is always a decision made here, never a default a new code path inherits.
 *
 * - `forkForReads(orm)`: an EntityManager whose raw `execute` (what the catalogue, trending, similar movies and the
 *   served lists use) goes to a replica outside transactions. A replica that cannot be reached, or cancels a query
 *   in conflict with recovery, is skipped for a few seconds and the query runs on the primary instead.
 * - `createReadRouting`: read-your-writes for one user. After a user's own write the caller marks the user
 *   (`wrote`), and for `DATABASE_READ_YOUR_WRITES_MS` that user's lag-tolerant reads go to the primary too.
 */
import type { EntityManager, MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import type { Pool } from "pg";

/** How long a replica that failed is left alone before reads try it again. */
const REPLICA_BACKOFF_MS = 5000;
const downUntil = new WeakMap<MikroORM, number>();

/** True when the ORM was opened with at least one read replica. */
export function hasReplicas(orm: MikroORM): boolean {
  return (orm.config.get("replicas")?.length ?? 0) > 0;
}

/** Errors after which the same query is worth running on the primary: the replica is down, starting, or in conflict. */
function isReplicaTrouble(e: unknown): boolean {
  const err = e as { code?: string; name?: string; message?: string } | undefined;
  const code = err?.code ?? "";
  if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "57P01", "57P02", "57P03", "40001"].includes(code)) return true;
  if (code.startsWith("08")) return true; // connection exception class
  return err?.name === "ConnectionException" || /Connection terminated|connect ECONNREFUSED|conflict with recovery|timeout exceeded when trying to connect/i.test(err?.message ?? "");
}

type Execute = EntityManager["execute"];

/** A fresh EntityManager whose raw queries read a replica (the primary when none is configured or it is failing). */
export function forkForReads(orm: MikroORM): EntityManager {
  const em = orm.em.fork();
  if (!hasReplicas(orm)) return em;
  const execute = em.execute.bind(em) as (q: unknown, p: unknown, o: object) => Promise<unknown>;
  em.execute = (async (query: unknown, params?: unknown, methodOrOptions?: unknown, loggerContext?: unknown) => {
    const opts = typeof methodOrOptions === "object" && methodOrOptions !== null ? (methodOrOptions as object) : { method: methodOrOptions ?? "all", ...(loggerContext ? { loggerContext } : {}) };
    if ((downUntil.get(orm) ?? 0) > Date.now()) return execute(query, params ?? [], { ...opts, connectionType: "write" });
    try {
      return await execute(query, params ?? [], { connectionType: "read", ...opts });
    } catch (e) {
      if (!isReplicaTrouble(e)) throw e;
      downUntil.set(orm, Date.now() + REPLICA_BACKOFF_MS);
      return execute(query, params ?? [], { ...opts, connectionType: "write" });
    }
  }) as Execute;
  return em;
}

export interface ReadRouting {
  /** Lag-tolerant reads of anything but `userId`'s own recent writes. */
  reads(): EntityManager;
  /** Reads for `userId`: the primary while their last write may not have reached the replicas yet. */
  readsFor(userId: string): Promise<EntityManager>;
  /** Call after `userId`'s write committed. */
  wrote(userId: string): Promise<void>;
}

const wroteKey = (userId: string) => `ryw:${userId}`;

/** Read routing over `orm` with read-your-writes per user kept in Redis (so every API process honours it). */
export function createReadRouting(orm: MikroORM, redis: Redis, windowMs: number): ReadRouting {
  const replicas = hasReplicas(orm) && windowMs >= 0;
  return {
    reads: () => forkForReads(orm),
    async readsFor(userId) {
      if (!replicas) return orm.em.fork();
      // Redis unreachable: we cannot know, so the primary (correct, only slower).
      const recent = await redis.exists(wroteKey(userId)).catch(() => 1);
      return recent ? orm.em.fork() : forkForReads(orm);
    },
    async wrote(userId) {
      if (!replicas || windowMs === 0) return;
      await redis.set(wroteKey(userId), "1", "PX", windowMs).catch(() => undefined);
    },
  };
}

/**
 * A `pg` pool for reports that run raw SQL (`query` only): a replica's, whose failures (down, recovery conflict)
 * send the query, and the next ones for a few seconds, to the primary's pool. The primary's pool without replicas.
 */
export function readPool(orm: MikroORM): () => Promise<Pool> {
  const primary = () => orm.em.getConnection("write").getNativeClient() as Promise<Pool>;
  if (!hasReplicas(orm)) return primary;
  return async () => {
    const replica = (await orm.em.getConnection("read").getNativeClient()) as Pool;
    const query = async (...args: unknown[]) => {
      const onPrimary = async () => ((await primary()).query as (...a: unknown[]) => Promise<unknown>)(...args);
      if ((downUntil.get(orm) ?? 0) > Date.now()) return onPrimary();
      try {
        return await (replica.query as (...a: unknown[]) => Promise<unknown>).apply(replica, args);
      } catch (e) {
        if (!isReplicaTrouble(e)) throw e;
        downUntil.set(orm, Date.now() + REPLICA_BACKOFF_MS);
        return onPrimary();
      }
    };
    return new Proxy(replica, { get: (target, prop) => (prop === "query" ? query : Reflect.get(target, prop)) });
  };
}
