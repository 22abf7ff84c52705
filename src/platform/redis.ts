import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";

/**
 * A Redis Cluster is named by `redis+cluster://[user:password@]host:port,host:port,…` (`rediss+cluster:` for TLS):
 * some of its nodes, from which ioredis discovers the rest and follows failovers.
 */
export function isClusterUrl(url: string): boolean {
  return url.startsWith("redis+cluster://") || url.startsWith("rediss+cluster://");
}

/** The seed nodes and credentials of a cluster URL. */
export function clusterTarget(url: string): { nodes: { host: string; port: number }[]; username?: string; password?: string; tls: boolean } {
  const tls = url.startsWith("rediss+");
  const rest = url.slice(url.indexOf("://") + 3).replace(/\/.*$/, "");
  const at = rest.lastIndexOf("@");
  const [userinfo, hosts] = at >= 0 ? [rest.slice(0, at), rest.slice(at + 1)] : ["", rest];
  const [user, pass] = userinfo ? (userinfo.includes(":") ? [userinfo.slice(0, userinfo.indexOf(":")), userinfo.slice(userinfo.indexOf(":") + 1)] : ["", userinfo]) : ["", ""];
  const nodes = hosts
    .split(",")
    .filter((h) => h !== "")
    .map((h) => {
      const i = h.lastIndexOf(":");
      return i > 0 ? { host: h.slice(0, i), port: Number(h.slice(i + 1)) } : { host: h, port: 6379 };
    });
  if (nodes.length === 0 || nodes.some((n) => !n.host || !Number.isInteger(n.port) || n.port <= 0)) throw new Error("a cluster URL lists host:port,host:port,…");
  return { nodes, ...(user ? { username: decodeURIComponent(user) } : {}), ...(pass ? { password: decodeURIComponent(pass) } : {}), tls };
}

/**
 * `{tag}`: the part of a key a Redis Cluster hashes to pick its slot. Keys that one command, MULTI block, pipeline or
 * Lua script uses together carry the same tag (a user's cached lists, a catalogue scope and its values, the login
 * limiter's counters); every other key carries none, so it hashes on its whole name and keys spread over all slots.
 * On one Redis a tag is just part of the name. Tags never include the prefix: two deployments sharing a cluster only
 * share slots, never keys.
 */
export function hashTag(tag: string): string {
  return `{${tag}}`;
}

/**
 * A Cluster client. Keys are spread over the slots (see `hashTag`; each BullMQ queue has a tagged prefix of its own,
 * platform/queues.ts), so every master holds part of the data and serves part of the load.
 */
export function createCluster(url: string, opts: { keyPrefix?: string; name?: string; forWorker?: boolean } = {}): Cluster {
  const t = clusterTarget(url);
  const options: ClusterOptions = {
    keyPrefix: opts.keyPrefix,
    // Workers block on BullMQ commands and must queue while a failover is under way; clients of the API fail fast.
    enableOfflineQueue: opts.forWorker ?? false,
    clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
    // A failover elects a replica within the node timeout; slots are re-read on the MOVED that follows.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    redisOptions: {
      username: t.username,
      password: t.password,
      tls: t.tls ? {} : undefined,
      connectionName: opts.name,
      maxRetriesPerRequest: opts.forWorker ? null : 1,
    },
  };
  return new Cluster(t.nodes, options);
}

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
  // A Cluster answers the same commands (MULTI, pipelines, Lua via defineCommand, keyPrefix); the modules keep
  // their `Redis` type and need not know which one they were given.
  if (isClusterUrl(url)) return createCluster(url, opts) as unknown as Redis;
  return new Redis({
    ...redisOptions(url),
    keyPrefix: opts.keyPrefix,
    connectionName: opts.name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
    // No auto-pipelining: ioredis would hold each command until the next loop turn's setImmediate, so on a saturated
    // server a cached read is sent only after its deadline's timer fired and falls back to PostgreSQL
    // (tests/platform/timeout.test.ts fails with it on).
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

/**
 * Every key matching `pattern` (raw, the client's keyPrefix is not applied): SCAN on the one server, or on every
 * master of a cluster (a SCAN sent to a cluster client reaches one node only). For tests and clean-ups, not hot paths.
 */
export async function scanKeys(client: Redis | Cluster, pattern: string): Promise<string[]> {
  const nodes: Redis[] = client instanceof Cluster ? client.nodes("master") : [client as Redis];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = "0";
    do {
      // A node of a Cluster carries no keyPrefix, a plain client does: `call` sends the pattern as given to both.
      const [next, batch] = (await node.call("SCAN", cursor, "MATCH", pattern, "COUNT", "1000")) as [string, string[]];
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
  }
  return keys;
}

/**
 * Deletes every key under `prefix:` (a bench's or an evaluation's own run, model blobs of tens of MiB and a key per
 * user's reasons), by UNLINK in batches. Keys come back from SCAN whole; a client with a keyPrefix adds it again to
 * the keys it is given, so it is taken off first.
 */
export async function unlinkKeysUnder(client: Redis | Cluster, prefix: string): Promise<number> {
  const own = (client instanceof Cluster ? client.options.keyPrefix : client.options.keyPrefix) ?? "";
  const keys = (await scanKeys(client, `${prefix}:*`)).map((k) => (own !== "" && k.startsWith(own) ? k.slice(own.length) : k));
  // On a cluster one key per command: a multi-key UNLINK must stay within one slot.
  const batch = client instanceof Cluster ? 1 : 1000;
  for (let k = 0; k < keys.length; k += batch) await client.unlink(...keys.slice(k, k + batch));
  return keys.length;
}
