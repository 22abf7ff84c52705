/**
 * A worker that starts with no model trains at once when enough interactions exist (the demo's first model comes
 * from this), once however many workers start, and not at all when a model exists or data is too thin.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { openOrm } from "../../src/platform/orm.ts";
import { createQueues, type Queues } from "../../src/platform/queues.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { ModelStore } from "../../src/modules/recommendation/model-store.ts";
import { BOOTSTRAP_TRAIN_JOB_ID, trainIfNoModel } from "../../src/modules/recommendation/bootstrap-training.ts";
import { createRecommendationModule } from "../../src/modules/recommendation/index.ts";
import { recordInteraction } from "../../src/modules/recommendation/interactions.ts";
import { seedGenre, seedMovie, seedUser } from "./fixtures.ts";
import { openTestRedis } from "../support/redis.ts";

const log = createLogger({ level: "silent" });
let orm: MikroORM;
let redis: Redis;
let queues: Queues;
beforeAll(async () => {
  orm = await openOrm(inject("databaseUrl"), { poolMax: 4 });
  const prefix = `${inject("redisPrefix")}boot${process.pid}`;
  redis = await openTestRedis(`${prefix}:`);
  queues = createQueues(inject("redisUrl"), prefix);
});
afterAll(async () => {
  await queues.scoring.obliterate({ force: true }).catch(() => undefined);
  await queues.close();
  redis.disconnect();
  await orm.close(true);
});

const interactionCount = async () => (await orm.em.fork().execute<{ n: number }[]>("select count(*)::int as n from user_movie_interactions"))[0]!.n;

describe("training at worker start", () => {
  it("waits for enough interactions, enqueues one training, and stops once a model exists", { timeout: 60_000 }, async () => {
    const store = new ModelStore(redis);
    const deps = { orm, store, scoringQueue: queues.scoring, log };
    const g = await seedGenre(orm);
    const movies = await Promise.all(Array.from({ length: 4 }, () => seedMovie(orm, undefined, [g])));
    const users = await Promise.all(Array.from({ length: 3 }, () => seedUser(orm)));

    // The database is shared with other test files: thresholds are relative to what is there now.
    const threshold = (await interactionCount()) + 6;
    expect(await trainIfNoModel(deps, threshold)).toBe("too few interactions");
    expect(await queues.scoring.getJob(BOOTSTRAP_TRAIN_JOB_ID)).toBeUndefined();
    expect(await trainIfNoModel(deps, 0)).toBe("disabled");

    for (const u of users) for (const m of movies.slice(0, 3)) await recordInteraction(orm.em, { userId: u, movieId: m, type: "like" });
    expect(await trainIfNoModel(deps, threshold)).toBe("enqueued");
    // A second worker starting meanwhile adds nothing.
    expect(await trainIfNoModel(deps, threshold)).toBe("already queued");
    const job = (await queues.scoring.getJob(BOOTSTRAP_TRAIN_JOB_ID))!;
    expect(job.name).toBe("train");
    expect((await store.training()).state).toBe("queued");

    // The ordinary training processor runs it and publishes a model; then start-up does nothing.
    const mod = createRecommendationModule({ orm, redis, queues, log }, { topN: 10, maxItems: 300 });
    await mod.processors.train!(job, log);
    expect(await store.meta()).not.toBeNull();
    expect(await trainIfNoModel(deps, threshold)).toBe("model exists");
  });
});

describe("the online path for a new user", () => {
  it("scores a user on the first read after their likes, without waiting for the rescoring job", { timeout: 60_000 }, async () => {
    const prefix = `${inject("redisPrefix")}online${process.pid}`;
    const r = await openTestRedis(`${prefix}:`);
    const q = createQueues(inject("redisUrl"), prefix);
    try {
      const mod = createRecommendationModule({ orm, redis: r, queues: q, log }, { topN: 10, maxItems: 300, rescoreDebounceMs: 60_000 });
      // Two tastes: fans of A-movies and fans of B-movies.
      const g = await seedGenre(orm);
      const a = await Promise.all(Array.from({ length: 4 }, () => seedMovie(orm, undefined, [g])));
      const b = await Promise.all(Array.from({ length: 4 }, () => seedMovie(orm, undefined, [g])));
      for (let u = 0; u < 6; u++) {
        const id = await seedUser(orm);
        for (const m of u % 2 === 0 ? a : b) await recordInteraction(orm.em, { userId: id, movieId: m, type: "like" });
      }
      await mod.service.startTraining(`online-${Date.now()}`, false);
      const job = (await q.scoring.getJobs(["waiting"])).find((j) => j.name === "train")!;
      await mod.processors.train!(job, log);

      const newcomer = await seedUser(orm);
      expect((await mod.service.getRecommendations(newcomer, { algorithm: "hybrid", limit: 5 })).algorithm).toBe("trending");
      await mod.service.recordInteraction({ userId: newcomer, movieId: a[0]!, type: "like" });
      await mod.service.recordInteraction({ userId: newcomer, movieId: a[1]!, type: "like" });
      // The rescoring job waits a minute (debounce): only the read itself can have scored the user.
      const got = await mod.service.getRecommendations(newcomer, { algorithm: "hybrid", limit: 5 });
      expect(got.algorithm).toBe("hybrid");
      const ids = got.items.map((i) => i.movie.id);
      expect(ids).not.toContain(a[0]);
      expect(ids.slice(0, 2).every((m) => a.includes(m))).toBe(true); // the A-fans' other movies first
      expect(got.items[0]!.reason).toMatch(/^Because you liked /);
      expect(got.items[0]!.id).not.toBe(""); // a stored row: clicks and feedback can refer to it
    } finally {
      await q.scoring.obliterate({ force: true }).catch(() => undefined);
      await q.close();
      r.disconnect();
    }
  });
});
