/**
 * The cached list's two fields (serving-cache.ts): a page within HEAD_ITEMS is read from the head field, a longer
 * one from the whole list, and both give the same items in the same order, dates revived. Real Redis.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createRedis } from "../../src/platform/redis.ts";
import { HEAD_ITEMS, invalidateUsers, listKey, readCachedList, writeCachedList } from "../../src/modules/recommendation/serving-cache.ts";
import type { ServedItem } from "../../src/modules/recommendation/serving.ts";

const redis = createRedis(inject("redisUrl"), { keyPrefix: `test-serving-cache-${randomBytes(4).toString("hex")}:` });
// No offline queue (serving must not wait for a reconnect): start once the connection is ready.
beforeAll(async () => {
  if (redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
});
afterAll(() => redis.quit());

const item = (k: number): ServedItem => ({
  id: String(1000 + k),
  movie: { id: String(k), tmdbId: k, title: `Movie ${k}`, releaseDate: "2001-01-01", posterPath: "", tmdbRating: null, popularityScore: 1, genres: [] },
  score: 1 - k / 100,
  algorithm: "hybrid",
  reason: `reason ${k}`,
  generatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, k)),
});

describe("cached lists", () => {
  it("serves short pages from the head field and longer ones from the whole list, equal where they overlap", async () => {
    const items = Array.from({ length: 60 }, (_, k) => item(k));
    await writeCachedList(redis, "list:u1:hybrid", "all", items);
    const short = await readCachedList(redis, "list:u1:hybrid", "all", 10);
    const long = await readCachedList(redis, "list:u1:hybrid", "all", 45);
    expect(short).toEqual(items.slice(0, 10));
    expect(long).toEqual(items.slice(0, 45));
    expect(long![3]!.generatedAt).toBeInstanceOf(Date);
    // The head field really is what a short page reads: change it and only short pages see the change.
    await redis.hset("list:u1:hybrid", "all#head", JSON.stringify([item(99)]));
    expect((await readCachedList(redis, "list:u1:hybrid", "all", HEAD_ITEMS))!.map((i) => i.id)).toEqual(["1099"]);
    expect((await readCachedList(redis, "list:u1:hybrid", "all", HEAD_ITEMS + 1))!.length).toBe(HEAD_ITEMS + 1);
    expect(await redis.ttl("list:u1:hybrid")).toBeGreaterThan(3000);
  });

  it("a miss is null", async () => {
    expect(await readCachedList(redis, "list:nobody:hybrid", "all", 5)).toBeNull();
  });

  it("invalidateUsers drops every cached list of the batch's users and no one else's", async () => {
    const batch = Array.from({ length: 250 }, (_, k) => String(7000 + k));
    const others = ["6999", "7250"];
    for (const u of [...batch, ...others]) for (const a of ["hybrid", "trending"]) await writeCachedList(redis, listKey(u, a), "all", [item(1)]);
    await invalidateUsers(redis, batch);
    for (const u of batch) for (const a of ["hybrid", "trending"]) expect(await redis.exists(listKey(u, a))).toBe(0);
    for (const u of others) expect(await readCachedList(redis, listKey(u, "hybrid"), "all", 5)).toEqual([item(1)]);
  });
});

