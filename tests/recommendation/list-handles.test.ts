/**
 * Scored lists and the ids of their items (list-handles.ts, migration 0018): what GetRecommendations serves is the
 * scored list itself (same movies, same order, same scores); a click or a feedback on a served item writes its
 * `user_recommendations` row on first reference and finds it after; an item of the list a rescoring replaced can
 * still be clicked (one generation back), an older one cannot; another user's item ids name nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { openOrm } from "../../src/platform/orm.ts";
import { openTestRedis } from "../support/redis.ts";
import { createQueues, type Queues } from "../../src/platform/queues.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { NotFoundError } from "../../src/platform/errors.ts";
import { createRecommendationModule } from "../../src/modules/recommendation/index.ts";
import { recordInteraction } from "../../src/modules/recommendation/interactions.ts";
import { rescoreUser, trainAndPublish } from "../../src/modules/recommendation/scoring.ts";
import { HANDLE_BASE, parseHandle } from "../../src/modules/recommendation/list-handles.ts";
import type { StoredModel } from "../../src/modules/recommendation/model-artefact.ts";
import { seedGenre, seedMovie, seedUser } from "./fixtures.ts";

const OPTS = { topN: 20, maxItems: 500 };
let orm: MikroORM;
let redis: Redis;
let queues: Queues;
let stored: StoredModel;
let mod: ReturnType<typeof createRecommendationModule>;
let films: string[];
beforeAll(async () => {
  orm = await openOrm(inject("databaseUrl"), { poolMax: 4 });
  redis = await openTestRedis(`${inject("redisPrefix")}handles${process.pid}:`);
  queues = createQueues(inject("redisUrl"), `${inject("redisPrefix")}handles${process.pid}`);
  // Two genres every film's second one alternates between: a genre (or language) on every film of the model has an
  // IDF of zero, so with only these films in the database (the file run alone) content scores would all be zero.
  const [genre, odd, even] = await Promise.all([seedGenre(orm), seedGenre(orm), seedGenre(orm)]);
  films = await Promise.all(Array.from({ length: 12 }, (_, k) => seedMovie(orm, `Handle ${k} ${Date.now()}`, [genre, k % 2 ? odd : even])));
  for (let k = 0; k < 8; k++) {
    const u = await seedUser(orm);
    for (const m of films) await recordInteraction(orm.em, { userId: u, movieId: m, type: "like" });
  }
  // Rescorings are run by the test itself: a long debounce keeps the queue's jobs from mattering.
  mod = createRecommendationModule({ orm, redis, queues, log: createLogger({ level: "silent" }) }, { ...OPTS, rescoreDebounceMs: 600_000 });
  await trainAndPublish(orm, mod.store, OPTS);
  stored = (await mod.store.current())!;
}, 120_000);
afterAll(async () => {
  await queues?.close();
  redis?.disconnect();
  await orm?.close(true);
});

/** A user who liked the first two films, scored once. */
async function scoredUser(): Promise<string> {
  const userId = await seedUser(orm);
  await recordInteraction(orm.em, { userId, movieId: films[0]!, type: "like" });
  await recordInteraction(orm.em, { userId, movieId: films[1]!, type: "like" });
  await rescoreUser(orm, redis, stored, userId, OPTS);
  return userId;
}

const latestList = async (userId: string, algorithm: string) =>
  (await orm.em.fork().execute<{ id: string; movie_ids: string[]; scores: number[] }[]>(
    "select id::text as id, movie_ids::text[] as movie_ids, scores from user_recommendation_lists where user_id = ? and algorithm = ? order by id desc limit 1",
    [userId, algorithm],
  ))[0]!;
const rowsOf = (userId: string) =>
  orm.em.fork().execute<{ id: string; movie_id: string; algorithm: string; clicked: boolean }[]>(
    "select id::text as id, movie_id::text as movie_id, algorithm, clicked from user_recommendations where user_id = ? order by id",
    [userId],
  );

describe("scored lists and the ids of their items", () => {
  it("serves the scored list: the same movies in the same order with the same scores, each id naming its list and rank", async () => {
    const userId = await scoredUser();
    for (const algorithm of ["hybrid", "collaborative", "content_based", "trending"] as const) {
      const list = await latestList(userId, algorithm);
      expect(list.movie_ids.length, algorithm).toBeGreaterThan(0);
      const served = await mod.service.getRecommendations(userId, { algorithm, limit: 100 });
      expect(served.algorithm).toBe(algorithm);
      expect(served.items.map((i) => i.movie.id)).toEqual(list.movie_ids);
      expect(served.items.map((i) => i.score)).toEqual(list.scores);
      expect(served.items.map((i) => parseHandle(i.id))).toEqual(list.movie_ids.map((_, k) => ({ listId: list.id, position: k })));
    }
    // Nothing was written per item by serving.
    expect(await rowsOf(userId)).toEqual([]);
  });

  it("a click writes the item's row on first reference (with the served id), a second click and a feedback find it", async () => {
    const userId = await scoredUser();
    const served = await mod.service.getRecommendations(userId, { algorithm: "hybrid", limit: 5 });
    const [first, second] = served.items;
    const click = await mod.service.recordClick(userId, first!.id);
    expect(click.rowId).toBe(first!.id);
    expect(await rowsOf(userId)).toEqual([{ id: first!.id, movie_id: first!.movie.id, algorithm: "hybrid", clicked: true }]);
    const again = await mod.service.recordClick(userId, first!.id);
    expect(again).toEqual(click); // the first click's time stays
    const fb = await mod.service.submitFeedback(userId, second!.id, "not_interested", "");
    const [ref] = await orm.em.fork().execute<{ recommendation_id: string; movie_id: string }[]>(
      "select f.recommendation_id::text as recommendation_id, r.movie_id::text as movie_id from recommendation_feedback f join user_recommendations r on r.id = f.recommendation_id where f.id = ?",
      [fb.id],
    );
    expect(ref).toEqual({ recommendation_id: second!.id, movie_id: second!.movie.id });
    // The dismissed movie is no longer served.
    const after = await mod.service.getRecommendations(userId, { algorithm: "hybrid", limit: 100 });
    expect(after.items.map((i) => i.movie.id)).not.toContain(second!.movie.id);
    expect(after.items.map((i) => i.movie.id)).toContain(first!.movie.id);
  });

  it("an item of the list a rescoring replaced can still be clicked, and resolves to the movie's existing row; two rescorings later it is gone", async () => {
    const userId = await scoredUser();
    const before = (await mod.service.getRecommendations(userId, { algorithm: "hybrid", limit: 5 })).items;
    const { rowId } = await mod.service.recordClick(userId, before[0]!.id);
    // A like rescored the user while the old list was still on screen.
    await recordInteraction(orm.em, { userId, movieId: before[3]!.movie.id, type: "like" });
    await rescoreUser(orm, redis, stored, userId, OPTS);
    const now = (await mod.service.getRecommendations(userId, { algorithm: "hybrid", limit: 20 })).items;
    expect(parseHandle(now[0]!.id)!.listId).not.toBe(parseHandle(before[0]!.id)!.listId);
    const old = await mod.service.recordClick(userId, before[1]!.id);
    expect(old.rowId).toBe(before[1]!.id);
    // The movie clicked before, served again in the new list under a new id: the same row.
    const same = now.find((i) => i.movie.id === before[0]!.movie.id)!;
    expect((await mod.service.recordClick(userId, same.id)).rowId).toBe(rowId);
    expect((await rowsOf(userId)).map((r) => r.movie_id).sort()).toEqual([before[0]!.movie.id, before[1]!.movie.id].sort());
    await rescoreUser(orm, redis, stored, userId, OPTS);
    await expect(mod.service.recordClick(userId, before[2]!.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(mod.service.submitFeedback(userId, before[2]!.id, "positive", "")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("another user's item ids, and ids naming no item, are NOT_FOUND and write nothing", async () => {
    const alice = await scoredUser();
    const bob = await scoredUser();
    const item = (await mod.service.getRecommendations(alice, { algorithm: "hybrid", limit: 1 })).items[0]!;
    await expect(mod.service.recordClick(bob, item.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(mod.service.submitFeedback(bob, item.id, "negative", "")).rejects.toBeInstanceOf(NotFoundError);
    const list = await latestList(alice, "hybrid");
    const past = (HANDLE_BASE + BigInt(list.id) * 1000n + BigInt(list.movie_ids.length)).toString(); // one past the end
    await expect(mod.service.recordClick(alice, past)).rejects.toBeInstanceOf(NotFoundError);
    expect(await rowsOf(alice)).toEqual([]);
    expect(await rowsOf(bob)).toEqual([]);
  });
});
