/**
 * Tells every process that cached entries changed, over Redis pub/sub: a writer publishes (cache, groups) after it
 * commits, and processes holding local copies (local-cache.ts) subscribe and drop them. One channel per key prefix,
 * so apps and benches sharing one Redis keep to themselves.
 *
 * Best effort by design: a message lost while the subscriber reconnects is covered by the local entries' TTL, and
 * once it is back the subscriber drops everything it may have missed. A Redis Cluster broadcasts PUBLISH to every
 * node, so one subscription on any node hears it.
 */
import type { Cluster, Redis } from "ioredis";

/** Groups of one cache that changed; `undefined`: anything may have changed (the subscription was lost for a while). */
export type InvalidationHandler = (groups: readonly string[] | undefined) => void;

const subscriptions = new WeakMap<Redis, Map<string, Set<InvalidationHandler>>>();

function channelOf(redis: Redis): string {
  return `${(redis.options as { keyPrefix?: string }).keyPrefix ?? ""}movierec:cache-invalidation`;
}

/** After a committed write: every process drops its local copies of these groups of `cache`. */
export async function publishInvalidation(redis: Redis, cache: string, groups: readonly string[]): Promise<void> {
  if (groups.length === 0) return;
  await redis.publish(channelOf(redis), JSON.stringify({ cache, groups }));
}

/**
 * Calls `handler` whenever some process invalidates groups of `cache` (this one included). The first handler of a
 * client opens its subscriber connection, which closes when the client ends.
 */
export function onInvalidation(redis: Redis, cache: string, handler: InvalidationHandler): void {
  let handlers = subscriptions.get(redis);
  if (handlers === undefined) {
    handlers = new Map();
    subscriptions.set(redis, handlers);
    subscribe(redis, handlers);
  }
  let forCache = handlers.get(cache);
  if (forCache === undefined) {
    forCache = new Set();
    handlers.set(cache, forCache);
  }
  forCache.add(handler);
}

function subscribe(redis: Redis, handlers: Map<string, Set<InvalidationHandler>>): void {
  const channel = channelOf(redis);
  // A subscriber connection of its own (a subscribed connection takes no other commands). Its commands may wait for
  // the connection, unlike the cache client's, which fail fast so that reads degrade at once.
  const cluster = (redis as unknown as { isCluster?: boolean }).isCluster === true;
  const sub = cluster ? (redis as unknown as Cluster).duplicate([], { enableOfflineQueue: true }) : redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
  const everyone = (groups: readonly string[] | undefined) => {
    for (const set of handlers.values()) for (const h of set) h(groups);
  };
  let connected = false;
  sub.on("ready", () => {
    // Back after a break: whatever was published meanwhile is lost, so everything local is suspect.
    if (connected) everyone(undefined);
    connected = true;
  });
  sub.on("message", (from: string, text: string) => {
    if (from !== channel) return;
    try {
      const { cache, groups } = JSON.parse(text) as { cache: string; groups: string[] };
      for (const h of handlers.get(cache) ?? []) h(groups);
    } catch {
      // Not ours to read: ignore.
    }
  });
  // Reconnects by itself (ioredis resubscribes); errors are the main client's to report.
  sub.on("error", () => undefined);
  sub.subscribe(channel).catch(() => undefined);
  redis.once("end", () => sub.disconnect());
}
