/**
 * Training on data of any age, off the event loop, and never twice at once: a private database whose last event is a
 * year old (trending must not decay to nothing), and real BullMQ workers whose lock is shorter than the training.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { QueueEvents, type Job } from "bullmq";
import { openOrm } from "../../src/platform/orm.ts";
import { migrateUp } from "../../src/platform/migrations.ts";
import { bullConnection, createQueues, queuePrefix, type Queues } from "../../src/platform/queues.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { startWorkers } from "../../src/worker/workers.ts";
import { ModelStore } from "../../src/modules/recommendation/model-store.ts";
import { createScoringProcessors } from "../../src/modules/recommendation/recommendation.jobs.ts";
import { DEFAULT_OPTIONS } from "../../src/modules/recommendation/recommendation-service.ts";
import { getRecommendations, getTrending } from "../../src/modules/recommendation/serving.ts";
import { scoreUsers } from "../../src/modules/recommendation/scoring.ts";
import { fitInThread } from "../../src/modules/recommendation/training/fit-in-thread.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { CURRENT_ITEMS } from "./fixtures.ts";
import { openTestRedis } from "../support/redis.ts";

const log = createLogger({ level: "silent" });
let db: TestDatabase;
let orm: MikroORM;
let redis: Redis;
let queues: Queues;
let prefix: string;
beforeAll(async () => {
  // A database of its own: "the latest event" must be this file's, not another test's fresh interaction.
  db = await createTestDatabase("movierec_trainguard", inject("adminDatabaseUrl"));
  orm = await openOrm(db.url, { poolMax: 4 });
  await migrateUp(orm);
  prefix = `${inject("redisPrefix")}guard${process.pid}`;
  redis = await openTestRedis(`${prefix}:`);
  queues = createQueues(inject("redisUrl"), prefix);
  // 300 users with 40 interactions each over 600 movies in 6 taste groups, the latest a year ago.
  await orm.em.fork().execute(`insert into genres (tmdb_id, name, slug) select g, 'Genre ' || g, 'genre-' || g from generate_series(1, 6) g`);
  await orm.em.fork().execute(`insert into movies (tmdb_id, title, original_title, original_language) select i, 'Movie ' || i, 'Movie ' || i, 'en' from generate_series(1, 600) i`);
  await orm.em.fork().execute(`insert into movie_genres (movie_id, genre_id) select m.id, g.id from movies m join genres g on g.tmdb_id = 1 + m.tmdb_id % 6`);
  await orm.em.fork().execute(`insert into users (username, email, password) select 'u' || i, 'u' || i || '@example.test', 'x' from generate_series(1, 300) i`);
  await orm.em.fork().execute(
    `insert into user_movie_interactions (user_id, movie_id, interaction_type, rating, "timestamp")
     select distinct on (u.id, m.id) u.id, m.id, 'rating', 4, now() - interval '365 days' - (k * interval '1 hour') - (u.id * interval '1 minute')
       from users u cross join generate_series(1, 40) k
       join movies m on m.tmdb_id = 1 + ((u.id % 6) + 6 * ((u.id * 7 + k * k * 13) % 100)) % 600`,
  );
});
afterAll(async () => {
  await queues.scoring.obliterate({ force: true }).catch(() => undefined);
  await queues.close();
  redis.disconnect();
  await orm.close(true);
  await db.drop();
});

const processors = (guard = {}) =>
  createScoringProcessors({ orm, redis, store: new ModelStore(redis), scoringQueue: queues.scoring, options: { ...DEFAULT_OPTIONS, topN: 20, maxItems: 600 }, guard });

describe("trending on year-old data", () => {
  it("the model, GetTrendingMovies and the cold-start list all have trending movies, and agree", async () => {
    const store = new ModelStore(redis);
    const mod = createScoringProcessors({ orm, redis, store, scoringQueue: queues.scoring, options: { ...DEFAULT_OPTIONS, topN: 20, maxItems: 600 } });
    const job = await queues.scoring.add("train", {}, { jobId: `trend-${Date.now()}` });
    await mod.train!(job, log);
    await job.remove(); // handed to the processor directly: no worker of a later test may take it
    const stored = (await store.current())!;
    expect(stored.model.trending.filter((t) => t > 0).length).toBeGreaterThan(100);
    expect(Math.max(...stored.model.trending)).toBe(1);

    const [user] = await orm.em.fork().execute<{ id: string }[]>("select id::text as id from users order by id limit 1");
    await scoreUsers(orm, redis, stored, [user.id], { topN: 20, maxItems: 600 });
    const rows = await orm.em.fork().execute<{ n: number }[]>(`select count(*)::int as n from ${CURRENT_ITEMS} r where user_id = ?::bigint and algorithm = 'trending'`, [user.id]);
    expect(rows[0].n).toBe(20);

    const week = await getTrending(orm.em.fork(), redis, { window: "week", limit: 10 });
    expect(week.length).toBe(10);
    expect(week[0].score).toBe(1);
    // A user with nothing gets the cold-start list: the same week's trending, in the same order.
    const [fresh] = await orm.em.fork().execute<{ id: string }[]>("insert into users (username, email, password) values ('fresh', 'fresh@example.test', 'x') returning id::text as id");
    const cold = await getRecommendations(orm.em.fork(), redis, fresh.id, { algorithm: "hybrid", limit: 10 });
    expect(cold.algorithm).toBe("trending");
    expect(cold.items.map((i) => i.movie.id)).toEqual(week.map((w) => w.movie.id));
    // And the model's trending part ranks the week's top movie first too (one definition of "trending").
    const modelTop = stored.movieIds[stored.model.trending.indexOf(1)];
    expect(modelTop).toBe(week[0].movie.id);
  });
});

describe("training off the event loop, once at a time", () => {
  it("keeps the event loop free while the model fits in a thread, and reports each phase", async () => {
    const { loadCatalogue, loadTrainingData } = await import("../../src/modules/recommendation/training-data.ts");
    const catalogue = await loadCatalogue(orm.em.fork());
    const data = await loadTrainingData(orm.em.fork(), catalogue, new Date());
    let worstGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const t = performance.now();
      worstGap = Math.max(worstGap, t - last);
      last = t;
    }, 5);
    const phases: string[] = [];
    const started = performance.now();
    const out = await fitInThread({ data, train: { maxItems: 600 }, evaluate: true }, (p) => phases.push(p.phase));
    const took = performance.now() - started;
    clearInterval(timer);
    expect(out.model.items).toBe(600);
    expect(out.evaluation["hybrid.ndcg@10"]).toBeGreaterThan(0);
    expect(phases).toEqual(["fitting", "evaluating", "done"]);
    // The loop never paused for more than a fraction of the fit (on the loop itself, one pause would be the whole fit;
    // on an idle machine the worst pause is a few ms, on a loaded shared one it stays far below the fit). The fit
    // takes ~180 ms on an idle machine and seconds on a loaded one: long enough either way to tell the two apart.
    expect(took).toBeGreaterThan(100);
    expect(worstGap).toBeLessThan(took / 2);
  });

  it("never runs a training job twice when it outlasts the lock duration, and two training jobs never overlap", async () => {
    const lockDurationMs = 1000;
    const runs: { jobId: string; jobStart: number; start: number; end: number }[] = [];
    const table = processors({ busyDelayMs: 200 });
    const train = table.train!;
    // Every job outlasts its lock whatever the machine's speed: it holds the job past the lock duration before training
    // (on an idle machine the fit alone is shorter than the lock).
    const timed = async (job: Job, l: typeof log, token?: string) => {
      const jobStart = Date.now();
      await new Promise((r) => setTimeout(r, lockDurationMs + 200));
      const start = Date.now();
      const r = (await train(job, l, token)) as { version?: string; skipped?: string };
      if (r.version) runs.push({ jobId: job.id!, jobStart, start, end: Date.now() });
      return r;
    };
    // Two workers (as two processes would be), each with a lock far shorter than a training run.
    const workers = [0, 1].map(() => startWorkers({ redisUrl: inject("redisUrl"), prefix, log, processors: { scoring: { ...table, train: timed } }, lockDurationMs, concurrency: 2 }));
    const events = new QueueEvents("scoring", { connection: bullConnection(inject("redisUrl"), true), prefix: queuePrefix(inject("redisUrl"), prefix, "scoring") });
    await events.waitUntilReady();
    try {
      const a = await queues.scoring.add("train", { evaluate: true }, { jobId: "train-guard-a" });
      const b = await queues.scoring.add("train", { evaluate: true }, { jobId: "train-guard-b" });
      await Promise.all([a.waitUntilFinished(events, 120_000), b.waitUntilFinished(events, 120_000)]);
      expect(runs.map((r) => r.jobId).sort()).toEqual(["train-guard-a", "train-guard-b"]);
      // Each outlasted the lock duration, yet none ran twice, and the two ran one after the other. (Lock renewal keeps
      // them from stalling; should a starved machine stall one anyway, its retry finds it trained, or still training
      // under the training lock, and skips.)
      for (const r of runs) expect(r.end - r.jobStart).toBeGreaterThan(lockDurationMs);
      runs.sort((x, y) => x.start - y.start);
      expect(runs[1].start).toBeGreaterThanOrEqual(runs[0].end);
      for (const id of ["train-guard-a", "train-guard-b"]) {
        const job = (await queues.scoring.getJob(id))!;
        expect(await job.getState()).toBe("completed");
        expect(job.progress).toMatchObject({ phase: "published" });
      }
    } finally {
      await events.close();
      await Promise.all(workers.map((w) => w.close()));
    }
  }, 120_000);
});
