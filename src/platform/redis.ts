import { Redis, type RedisOptions } from "ioredis";

/** Connection options parsed from a redis:// URL; BullMQ gets options (not shared clients) so it can close its own. */
export function redisOptions(url: string): RedisOptions {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    tls: u.protocol === "rediss:" ? {} : undefined,
  };
}

/**
 * A client for caching and rate limits. Commands fail fast while Redis is down
 * (no offline queue), so callers can degrade instead of hanging.
 */
export function createRedis(url: string, opts: { keyPrefix?: string; name?: string } = {}): Redis {
  return new Redis({
    ...redisOptions(url),
    keyPrefix: opts.keyPrefix,
    connectionName: opts.name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
    // Reconnect forever with a capped delay: Redis coming back must heal the process.
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}

/** Resolves true when Redis answers PING within `timeoutMs`. Never throws. */
export async function pingRedis(client: Redis, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  try {
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    // Right after start-up the connection may still be opening; without an offline queue a
    // PING sent now would fail at once, so wait (within the same timeout) for it to be ready.
    const ready =
      client.status === "ready"
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            onReady = resolve;
            client.once("ready", onReady);
          });
    const ping = ready.then(() => client.ping()).then((r) => r === "PONG", () => false);
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
    if (onReady) client.off("ready", onReady);
  }
}
