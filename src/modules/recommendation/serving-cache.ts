/** Redis keys of served recommendation lists; rescoring, interactions and feedback invalidate them. */
import type { Redis } from "ioredis";
import { onInvalidation, publishInvalidation } from "../../platform/cache-invalidation.ts";
import { LocalCache } from "../../platform/local-cache.ts";
import { hashTag } from "../../platform/redis.ts";
import { withTimeout } from "../../platform/timeout.ts";
import type { ServedItem } from "./serving.ts";

/**
 * Deadline of each Redis call on the serving path. Redis is a cache here: a hung Redis (connections open, nothing
 * answered) must cost a read at most this, then PostgreSQL answers (tests/recommendation/redis-fallback.test.ts).
 */
export const SERVING_REDIS_MS = 150;

/** `call`'s result, or `fallback` when Redis fails or has not answered within SERVING_REDIS_MS. */
export function bounded<T>(call: Promise<T>, fallback: T): Promise<T> {
  return withTimeout(
    call.catch(() => fallback),
    SERVING_REDIS_MS,
    fallback,
  );
}

/** A user's cached list of one algorithm; a user's lists share a hash tag because `invalidateUser` deletes them in one DEL. */
export const listKey = (userId: string, algorithm: string) => `rec:list:${hashTag(`u${userId}`)}:${algorithm}`;
export const CACHED_ALGORITHMS = ["collaborative", "content_based", "trending", "hybrid"] as const;

/**
 * Local copies of served lists (platform/local-cache.ts), per Redis client: a process that serves lists turns them on
 * with `keepListsLocally`; every process's invalidations reach them (a worker's rescoring included).
 */
const localLists = new WeakMap<Redis, LocalCache<readonly ServedItem[]>>();
const LISTS_CACHE = "rec-lists";

/** Serves a user's cached lists from this process for up to `ttlMs` (0: off), dropped at once when they change anywhere. */
export function keepListsLocally(redis: Redis, ttlMs: number): void {
  if (ttlMs <= 0 || localLists.has(redis)) return;
  const local = new LocalCache<readonly ServedItem[]>({ ttlMs });
  localLists.set(redis, local);
  // Groups are the lists' Redis keys; messages name users.
  onInvalidation(redis, LISTS_CACHE, (users) => local.invalidate(users && userKeys(users)));
}

const userKeys = (userIds: readonly string[]) => userIds.flatMap((u) => CACHED_ALGORITHMS.map((a) => listKey(u, a)));

/** Drops a user's cached lists (best effort: a Redis outage only costs a PostgreSQL read later). */
export async function invalidateUser(redis: Redis, userId: string): Promise<void> {
  await invalidateUsers(redis, [userId]);
}

/**
 * Drops these users' cached lists, here and in every process's local copies (one message for all of them). Best
 * effort, bounded once for the batch: one pipeline on one Redis; on a cluster the DELs go out together instead (each
 * user's keys share a slot, different users' do not). Batch scoring awaited one DEL per user before: a round trip, a
 * socket write and a timer each.
 */
export async function invalidateUsers(redis: Redis, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) return;
  localLists.get(redis)?.invalidate(userKeys(userIds));
  let deleted: Promise<unknown>;
  if ((redis as { isCluster?: boolean }).isCluster) {
    deleted = Promise.all(userIds.map((u) => redis.del(...userKeys([u]))));
  } else {
    const pipe = redis.pipeline();
    for (const u of userIds) pipe.del(...userKeys([u]));
    deleted = pipe.exec();
  }
  await bounded(Promise.all([deleted, publishInvalidation(redis, LISTS_CACHE, userIds)]).then(() => undefined), undefined);
}

const LIST_TTL_SECONDS = 3600;
/**
 * Items in a cached list's head field. A list is cached twice in the user's hash: whole (up to 100 items) and its
 * first HEAD_ITEMS under `<field>#head`, so the common page (the default limit is 20) parses a fifth of the JSON —
 * parsing the whole list was the largest cost of a cached GetRecommendations in a CPU profile (bench:serving --profile).
 */
export const HEAD_ITEMS = 20;

/** A cached list for `limit` items (the head when it is enough), or null on a miss or a Redis failure. */
export async function readCachedList(redis: Redis, key: string, field: string, limit: number): Promise<ServedItem[] | null> {
  const hashField = limit <= HEAD_ITEMS ? `${field}#head` : field;
  const local = localLists.get(redis);
  const kept = local?.get(key, hashField);
  if (kept !== undefined) return kept.slice(0, limit);
  const ticket = local?.ticket();
  const cached = await bounded(redis.hget(key, hashField), null);
  if (!cached) return null;
  const items = JSON.parse(cached) as ServedItem[];
  // Shared by every call this process serves from its local copy: frozen, so no caller can change another's answer.
  for (const i of items) {
    i.generatedAt = new Date(i.generatedAt);
    Object.freeze(i);
  }
  if (local && ticket) local.set(key, hashField, items, ticket);
  return items.slice(0, limit);
}

/** Caches a list (whole and head) for an hour; invalidation drops the user's hash on every write. */
export async function writeCachedList(redis: Redis, key: string, field: string, items: readonly ServedItem[]): Promise<void> {
  const multi = redis.multi().hset(key, field, JSON.stringify(items), `${field}#head`, JSON.stringify(items.slice(0, HEAD_ITEMS))).expire(key, LIST_TTL_SECONDS);
  await bounded(multi.exec().then(() => undefined), undefined);
}
