/**
 * The scoring pipeline end to end on the real PostgreSQL and Redis: train, fold-in rescoring, serving with
 * exclusions and feedback, cold start, and the debounce of rescoring jobs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { openOrm } from "../../src/platform/orm.ts";
import { createQueues, type Queues } from "../../src/platform/queues.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createRecommendationModule } from "../../src/modules/recommendation/index.ts";
import { recordInteraction } from "../../src/modules/recommendation/interactions.ts";
import { rescoreUser, trainAndPublish } from "../../src/modules/recommendation/scoring.ts";
import { enqueueRescore } from "../../src/modules/recommendation/rescore-queue.ts";
import { seedGenre, seedMovie, seedUser } from "./fixtures.ts";
import { openTestRedis } from "../support/redis.ts";

let orm: MikroORM;
let redis: Redis;
let queues: Queues;
beforeAll(async () => {
  orm = await openOrm(inject("databaseUrl"), { poolMax: 4 });
  // A key prefix of this file's own, so the model published here is not another test file's.
  redis = await openTestRedis(`${inject("redisPrefix")}scoring${process.pid}:`);
  queues = createQueues(inject("redisUrl"), `${inject("redisPrefix")}scoring${process.pid}`);
});
afterAll(async () => {
  await queues.close();
  redis.disconnect();
  await orm.close(true);
});

describe("scoring", () => {
  it("trains, folds in a user's likes and serves fitting recommendations with reasons, never seen ones", async () => {
    const scifi = await seedGenre(orm, `SciFi ${Date.now()}`);
    const drama = await seedGenre(orm, `Drama ${Date.now()}`);
    const sf = await Promise.all(["Alien", "Aliens", "Blade Runner", "The Thing", "Solaris", "Dune"].map((t) => seedMovie(orm, `${t} ${Date.now()}`, [scifi])));
    const dr = await Promise.all(["Tokyo Story", "Amour", "Ikiru", "Ordet"].map((t) => seedMovie(orm, `${t} ${Date.now()}`, [drama])));
    // Ten sci-fi fans who like every sci-fi film, five drama fans.
    for (let k = 0; k < 10; k++) {
      const u = await seedUser(orm);
      for (const m of sf) await recordInteraction(orm.em, { userId: u, movieId: m, type: "like" });
    }
    for (let k = 0; k < 5; k++) {
      const u = await seedUser(orm);
      for (const m of dr) await recordInteraction(orm.em, { userId: u, movieId: m, type: "like" });
    }
    const mod = createRecommendationModule({ orm, redis, queues, log: createLogger({ level: "silent" }) }, { topN: 20, maxItems: 500 });
    const { meta } = await trainAndPublish(orm, mod.store, { topN: 20, maxItems: 500 });
    expect(meta.interactionCount).toBeGreaterThanOrEqual(80);

    const me = await seedUser(orm);
    await recordInteraction(orm.em, { userId: me, movieId: sf[0], type: "like" });
    await recordInteraction(orm.em, { userId: me, movieId: sf[1], type: "rating", rating: 5 });
    const stored = (await mod.store.current())!;
    expect(await rescoreUser(orm, redis, stored, me, { topN: 20, maxItems: 500 })).toBeGreaterThan(0);

    const got = await mod.service.getRecommendations(me, { algorithm: "hybrid", limit: 4 });
    expect(got.algorithm).toBe("hybrid");
    const ids = got.items.map((i) => i.movie.id);
    expect(ids).not.toContain(sf[0]);
    expect(ids).not.toContain(sf[1]);
    expect(ids.slice(0, 4).every((id) => sf.includes(id))).toBe(true);
    expect(got.items[0].reason).toMatch(/^Because you liked (Alien|Aliens) /);
    expect(got.items.every((i) => i.score >= 0 && i.score <= 1)).toBe(true);

    // Feedback takes effect on the next read, not the next training.
    const hidden = got.items[0];
    await mod.service.submitFeedback(me, hidden.id, "not_interested", "");
    const after = await mod.service.getRecommendations(me, { algorithm: "hybrid", limit: 20 });
    expect(after.items.map((i) => i.movie.id)).not.toContain(hidden.movie.id);
    // So does an interaction recorded after scoring.
    const next = after.items[0];
    await mod.service.recordInteraction({ userId: me, movieId: next.movie.id, type: "view" });
    const again = await mod.service.getRecommendations(me, { algorithm: "hybrid", limit: 20 });
    expect(again.items.map((i) => i.movie.id)).not.toContain(next.movie.id);
  });

  it("gives a user without rows the cold-start list at once, favourite genres first", async () => {
    const genre = await seedGenre(orm, `Western ${Date.now()}`);
    const western = await seedMovie(orm, `Rio Bravo ${Date.now()}`, [genre]);
    const u = await seedUser(orm);
    await orm.em.fork().execute("insert into user_profiles (user_id) values (?::bigint)", [u]);
    await orm.em.fork().execute("insert into user_favorite_genres (userprofile_id, genre_id) select id, ?::bigint from user_profiles where user_id = ?::bigint", [genre, u]);
    const mod = createRecommendationModule({ orm, redis, queues, log: createLogger({ level: "silent" }) });
    const got = await mod.service.getRecommendations(u, { algorithm: "hybrid", limit: 5 });
    expect(got.algorithm).toBe("trending");
    expect(got.items[0].movie.id).toBe(western);
    expect(got.items[0].reason).toMatch(/^Trending in Western/);
  });

  it("collapses a burst of rescoring requests into one delayed job", async () => {
    const u = await seedUser(orm);
    const results = [];
    for (let k = 0; k < 100; k++) results.push(await enqueueRescore(queues.scoring, u, 60_000));
    expect(results.filter(Boolean)).toHaveLength(1);
    const job = await queues.scoring.getJob(`rescore-${u}`);
    expect(await job!.getState()).toBe("delayed");
    await job!.remove();
  });
});
