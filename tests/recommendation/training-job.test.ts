/**
 * The training job as the worker runs it (a real job from the real queue, handed to the module's processor):
 * evaluation figures when asked for, the nightly scheduler under one id, and batch scoring across users.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { openOrm } from "../../src/platform/orm.ts";
import { createQueues, type Queues } from "../../src/platform/queues.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { loadConfig } from "../../src/platform/config.ts";
import { createRecommendationModule, RESCORE_SWEEP_SCHEDULER_ID, TRAIN_SCHEDULER_ID } from "../../src/modules/recommendation/index.ts";
import { recordInteraction } from "../../src/modules/recommendation/interactions.ts";
import { scoreUsers } from "../../src/modules/recommendation/scoring.ts";
import { CURRENT_ITEMS, seedGenre, seedMovie, seedUser } from "./fixtures.ts";
import { openTestRedis } from "../support/redis.ts";

const log = createLogger({ level: "silent" });
let orm: MikroORM;
let redis: Redis;
let queues: Queues;
beforeAll(async () => {
  orm = await openOrm(inject("databaseUrl"), { poolMax: 4 });
  const prefix = `${inject("redisPrefix")}trainjob${process.pid}`;
  redis = await openTestRedis(`${prefix}:`);
  queues = createQueues(inject("redisUrl"), prefix);
});
afterAll(async () => {
  await queues.scoring.obliterate({ force: true }).catch(() => undefined);
  await queues.close();
  redis.disconnect();
  await orm.close(true);
});

/** Eight users who each like five of the same six movies of one genre, at distinct times (so a temporal split has a test part). */
async function seedTaste(): Promise<{ users: string[]; movies: string[] }> {
  const g = await seedGenre(orm);
  const movies = await Promise.all(Array.from({ length: 6 }, () => seedMovie(orm, undefined, [g])));
  const users: string[] = [];
  for (let u = 0; u < 8; u++) {
    const id = await seedUser(orm);
    users.push(id);
    for (let k = 0; k < 5; k++) {
      await recordInteraction(orm.em, { userId: id, movieId: movies[(k + u) % movies.length], type: "like", clientTime: new Date(Date.now() - (10 - k) * 3_600_000) });
    }
  }
  return { users, movies };
}

describe("training job", () => {
  it("StartTraining with evaluate publishes a model whose status carries the evaluation figures", async () => {
    await seedTaste();
    const mod = createRecommendationModule({ orm, redis, queues, log }, { topN: 10, maxItems: 300 });
    const started = await mod.service.startTraining(`eval-${Date.now()}`, true);
    expect((await mod.service.modelStatus()).training.state).toBe("queued");
    const job = (await queues.scoring.getJob(started.jobId))!;
    expect(job.data).toEqual({ evaluate: true });
    await mod.processors.train(job, log);

    const status = await mod.service.modelStatus();
    expect(status.training.state).toBe("idle");
    const evaluation = status.meta!.evaluation;
    expect(evaluation.users).toBeGreaterThan(0);
    for (const a of ["mostpop", "collaborative", "content_based", "trending", "hybrid"]) {
      expect(evaluation[`${a}.ndcg@10`]).toBeGreaterThanOrEqual(0);
      expect(evaluation[`${a}.ndcg@10`]).toBeLessThanOrEqual(1);
    }
    expect(status.meta!.evaluatedAt).toBeDefined();
    // Training without evaluate leaves the figures empty; the batch scoring follows either way.
    await mod.processors.train((await queues.scoring.getJob((await mod.service.startTraining(`plain-${Date.now()}`, false)).jobId))!, log);
    expect((await mod.service.modelStatus()).meta!.evaluation).toEqual({});
    expect(await queues.scoring.getJob(`score-all-${(await mod.service.modelStatus()).meta!.version}`)).toBeDefined();
  });

  it("registers the nightly training once however many workers start, and removes it when turned off", async () => {
    const config = loadConfig({ REC_TRAIN_CRON: "15 3 * * *" });
    const mod = createRecommendationModule({ orm, redis, queues, log, config });
    await mod.schedule();
    await createRecommendationModule({ orm, redis, queues, log, config }).schedule();
    const schedulers = await queues.scoring.getJobSchedulers();
    // The rescoring outbox's sweep is registered alongside, also once (issue 11, row 4).
    expect(schedulers.map((s) => [s.key, s.pattern ?? `every ${s.every}`, s.name]).sort()).toEqual([
      [TRAIN_SCHEDULER_ID, "15 3 * * *", "train"],
      [RESCORE_SWEEP_SCHEDULER_ID, "every 30000", "rescore-sweep"],
    ]);
    await createRecommendationModule({ orm, redis, queues, log, config: loadConfig({ REC_TRAIN_CRON: "off" }) }).schedule();
    expect((await queues.scoring.getJobSchedulers()).map((s) => s.key)).toEqual([RESCORE_SWEEP_SCHEDULER_ID]);
  });

  it("takes topN, the debounce and the scoring threads from the configuration", () => {
    const mod = createRecommendationModule({ orm, redis, queues, log, config: loadConfig({ REC_TOP_N: "7", REC_RESCORE_DEBOUNCE_MS: "50", REC_MAX_ITEMS: "90", REC_TUNE_SECONDS: "5", REC_SCORE_THREADS: "3" }) });
    expect(mod.options).toEqual({ topN: 7, rescoreDebounceMs: 50, maxItems: 90, tuneSeconds: 5, scoreThreads: 3 });
  });

  it("scores a batch of users in one go, each getting their own top N per algorithm", async () => {
    const { users, movies } = await seedTaste();
    const mod = createRecommendationModule({ orm, redis, queues, log }, { topN: 3, maxItems: 300 });
    await mod.processors.train((await queues.scoring.getJob((await mod.service.startTraining(`batch-${Date.now()}`, false)).jobId))!, log);
    const stored = (await mod.store.current())!;
    const written = await scoreUsers(orm, redis, stored, users.slice(0, 3), { topN: 3, maxItems: 300 });
    const rows = await orm.em.fork().execute<{ u: string; algorithms: string; n: string }[]>(
      `select user_id::text as u, count(distinct algorithm)::text as algorithms, count(*)::text as n from ${CURRENT_ITEMS} r where user_id = any(?::bigint[]) group by user_id order by 1`,
      [`{${users.slice(0, 3).join(",")}}`],
    );
    expect(rows.map((r) => r.algorithms)).toEqual(["4", "4", "4"]);
    expect(rows.reduce((s, r) => s + Number(r.n), 0)).toBe(written);
    // Each user's one unliked movie of the genre is their best collaborative pick.
    for (const [k, u] of users.slice(0, 3).entries()) {
      const best = await orm.em.fork().execute<{ m: string }[]>(`select movie_id::text as m from ${CURRENT_ITEMS} r where user_id = ?::bigint and algorithm = 'collaborative' order by pos limit 1`, [u]);
      expect(best[0].m).toBe(movies[(k + 5) % movies.length]);
    }
    // Liked movies are never recommended back.
    const back = await orm.em.fork().execute<{ n: string }[]>(
      `select count(*)::text as n from ${CURRENT_ITEMS} r join user_movie_interactions i on i.user_id = r.user_id and i.movie_id = r.movie_id where r.user_id = any(?::bigint[]) and r.movie_id = any(?::bigint[])`,
      [`{${users.slice(0, 3).join(",")}}`, `{${movies.join(",")}}`],
    );
    expect(back[0].n).toBe("0");

    // A user with favourite genres and nothing liked yet is scored too, and told why.
    const fan = await seedUser(orm);
    await orm.em.fork().execute("insert into user_profiles (user_id) values (?::bigint)", [fan]);
    await orm.em.fork().execute(
      "insert into user_favorite_genres (userprofile_id, genre_id) select p.id, mg.genre_id from user_profiles p, movie_genres mg where p.user_id = ?::bigint and mg.movie_id = ?::bigint",
      [fan, movies[0]],
    );
    expect(await scoreUsers(orm, redis, stored, [fan], { topN: 3, maxItems: 300 })).toBeGreaterThan(0);
    const got = await mod.service.getRecommendations(fan, { algorithm: "hybrid", limit: 3 });
    expect(got.algorithm).toBe("hybrid");
    expect(got.items[0].reason).toBe("Popular in your favourite genres");
  });
});

describe("similar movies", () => {
  it("come from the trained model (co-liked first, content for the rest), and from SQL for a movie the model does not know", async () => {
    const { movies } = await seedTaste();
    const mod = createRecommendationModule({ orm, redis, queues, log }, { topN: 5, maxItems: 300 });
    await mod.processors.train((await queues.scoring.getJob((await mod.service.startTraining(`similar-${Date.now()}`, false)).jobId))!, log);
    const similar = await mod.service.getSimilar(movies[0], 5);
    expect(similar.map((s) => s.movie.id)).not.toContain(movies[0]);
    // The five other movies of the genre are liked by the same users: they come first, explained as such.
    expect(new Set(similar.map((s) => s.movie.id))).toEqual(new Set(movies.slice(1)));
    expect(similar[0].score).toBe(1);
    expect(similar[0].reason).toBe("People who liked this also liked it");

    const fresh = await seedMovie(orm);
    const liker = await seedUser(orm);
    await recordInteraction(orm.em, { userId: liker, movieId: fresh, type: "like" });
    await recordInteraction(orm.em, { userId: liker, movieId: movies[0], type: "like" });
    const fallback = await mod.service.getSimilar(fresh, 5);
    expect(fallback[0].movie.id).toBe(movies[0]);
    expect(fallback[0].reason).toBe("1 person who watched this also watched it");
  });
});
