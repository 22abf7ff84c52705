/**
 * A worker SIGKILLed mid-training (`node src/main.ts worker`, the real training job in its thread).
 *
 * What must hold:
 * - the worker is killed while it fits (the job reports the "fitting" phase; tuning is off, REC_TUNE_SECONDS=0),
 *   not before or after;
 * - no half-published model: while the training is dead, the previous model stays current (its version and artefact),
 *   every user keeps a complete list (rows of one generation: a user's rows are replaced in one transaction, never
 *   half), and GetRecommendations through the real server answers from it;
 * - another worker takes the training up (BullMQ finds the job stalled, the training lock of the dead run
 *   expires) and finishes it: a new model is published, the batch scoring that follows rescores every user;
 *   a stalled copy must not complete as "already training elsewhere" when that elsewhere is dead;
 * - the recovery time is printed with the machine's load.
 */
import { loadavg } from "node:os";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { createRecommendationModule } from "../../src/modules/recommendation/index.ts";
import { scoreUsers, trainAndPublish } from "../../src/modules/recommendation/scoring.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import type { TestDatabase } from "../support/database.ts";
import { uniq } from "../notification/helpers.ts";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { createTestUser } from "../auth/test-users.ts";
import { startWorkerProcess, type WorkerProcess } from "./support/worker-process.ts";
import { createMigratedDatabase, waitUntil } from "./support/own-database.ts";

const LOCK_MS = 1500;
/** Long enough that the dead run's training lock is still held when the other worker finds the job stalled. */
const TRAIN_LOCK_MS = 15_000;
let db: TestDatabase;
let ts: TestServer;
let env: Record<string, string>;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  db = await createMigratedDatabase();
  env = {
    NODE_ENV: "test",
    DATABASE_URL: db.url,
    REDIS_URL: inject("redisUrl"),
    REDIS_PREFIX: `${inject("redisPrefix")}ftrain${uniq()}`,
    DB_POOL_MAX: "4",
    WORKER_LOCK_MS: String(LOCK_MS),
    REC_TRAIN_LOCK_MS: String(TRAIN_LOCK_MS),
    REC_TRAIN_CRON: "off",
    // No hyper-parameter search (up to a minute by default): the fit itself is what gets killed.
    REC_TUNE_SECONDS: "0",
    REC_MAX_ITEMS: "1000",
    REC_TOP_N: "10",
  };
  ts = await startTestServer({ env });
});
afterAll(async () => {
  for (const w of workers) await w.kill("SIGKILL");
  await ts?.close();
  await db?.drop();
});

describe("a worker SIGKILLed mid-training", () => {
  it("keeps the previous model and complete lists, then another worker finishes the training and rescores everyone", async () => {
    const exec = <T>(sql: string, params: unknown[] = []) => ts.orm.em.fork().execute<T[]>(sql, params);
    // A real account first (lowest id: in the sample below), seeded with likes like everyone, to call the server as.
    const ana = await createTestUser(ts.deps, { prefix: "ftk" });
    // 3,000 users, 8 likes each over 1,000 movies (all kept: REC_MAX_ITEMS=1000): a training of ~0.8 s here, long
    // enough to be killed while it fits (polled every 5 ms), short enough for CI.
    await exec("insert into movies (tmdb_id, title, original_title, original_language) select 700000000 + g, 'M' || g, 'M' || g, 'en' from generate_series(1, 1000) g");
    await exec("insert into users (username, email, password) select 'ft' || g, 'ft' || g || '@example.test', 'x' from generate_series(1, 3000) g");
    await exec(`insert into user_movie_interactions (user_id, movie_id, interaction_type, "timestamp")
      select u.id, m.id, 'like', now() - (k || ' hours')::interval
        from (select id, row_number() over (order by id) as n from users) u
        cross join generate_series(1, 8) k
        join (select id, row_number() over (order by id) as n from movies) m on m.n = 1 + ((u.n * 7 + k * 13) % 120)
      on conflict do nothing`);
    const rec = createRecommendationModule({ ...ts.deps });
    const opts = { topN: 10, maxItems: 1000 };
    const { meta: v1 } = await trainAndPublish(ts.orm, rec.store, opts);
    const sample = (await exec<{ id: string }>("select id::text as id from users order by id limit 30")).map((r) => r.id);
    await scoreUsers(ts.orm, ts.redis, (await rec.store.current())!, sample, opts);
    const generations = () =>
      exec<{ user_id: string; gens: number; n: number }>(
        // Each (user, algorithm)'s current list (the one it replaced is kept too, for clicks on it: list-handles.ts).
        `select user_id::text as user_id, count(distinct generated_at)::int as gens, sum(cardinality(movie_ids))::int as n
           from (select distinct on (user_id, algorithm) user_id, generated_at, movie_ids from user_recommendation_lists
                  where user_id = any(?::bigint[]) order by user_id, algorithm, id desc) l group by user_id`,
        [`{${sample.join(",")}}`],
      );

    // Two workers; the one that takes the training is killed while it trains, the other must finish it.
    workers.push(startWorkerProcess(env), startWorkerProcess(env));
    await Promise.all(workers.map((w) => w.waitForLog((l) => l.msg === "workers started", 60_000)));
    const { jobId } = await rec.service.startTraining(`fault-${uniq()}`, false);
    const state = async () => {
      const job = await ts.deps.queues.scoring.getJob(jobId);
      const tails = workers.map((w, i) => `worker ${i} (pid ${w.child.pid}, exit ${w.child.exitCode ?? w.child.signalCode ?? "running"}):\n${w.lines.slice(-8).map((l) => `  ${JSON.stringify(l).slice(0, 300)}`).join("\n")}`);
      return `training status ${JSON.stringify(await rec.store.training())}; job ${jobId}: ${job ? `${await job.getState()}, progress ${JSON.stringify(job.progress)}, attempts ${job.attemptsMade}, processedBy ${job.processedBy ?? "-"}` : "gone"}; current model ${(await rec.store.meta())?.version ?? "none"} (v1 ${v1.version})\n${tails.join("\n")}`;
    };
    // Killed mid-fit: the job has reported a phase of its training thread (its data is loaded, the thread works).
    const inThread = new Set(["tuning", "fitting"]);
    await waitUntil("the training job fitting", async () => (inThread.has(String(((await ts.deps.queues.scoring.getJob(jobId))?.progress as { phase?: string } | undefined)?.phase)) ? true : undefined), 60_000, 5, state);
    const processedBy = (await ts.deps.queues.scoring.getJob(jobId))!.processedBy ?? "";
    const victim = workers.find((w) => processedBy.endsWith(`:${w.child.pid}`));
    expect(victim, `no worker matches processedBy ${processedBy}`).toBeDefined();
    await victim!.kill("SIGKILL");
    const killedAt = performance.now();

    // The premise: the victim died before publishing (a fit too short for this machine would fail here, not later).
    expect((await rec.store.meta())!.version, `the training finished before the kill:\n${await state()}`).toBe(v1.version);
    const stillServed = await rec.store.current();
    expect(stillServed!.meta.version).toBe(v1.version); // the artefact decodes: the pointer names a whole model
    const served = await createClient(RecommendationService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" })).getRecommendations({ limit: 5 }, { headers: ana.headers });
    expect(served.recommendations.length).toBeGreaterThan(0);
    const during = await generations();
    expect(during).toHaveLength(sample.length);
    for (const u of during) expect([u.gens, u.n > 0]).toEqual([1, true]);

    const v2 = await waitUntil(
      "a new model published by the second worker",
      async () => {
        const meta = await rec.store.meta();
        return meta && meta.version !== v1.version ? meta : undefined;
      },
      120_000,
      100,
      state,
    );
    const publishedMs = Math.round(performance.now() - killedAt);
    await waitUntil("the batch scoring after the training done", async () => ((await ts.deps.queues.scoring.getJob(`score-all-${v2.version}`))?.finishedOn ? true : undefined), 120_000, 100, state);
    const doneMs = Math.round(performance.now() - killedAt);
    const survivor = workers.find((w) => w !== victim)!;
    expect(survivor.child.exitCode).toBeNull();
    const trained = survivor.lines.find((l) => l.msg === "job done" && l.jobId === jobId);
    expect((await rec.store.training()).state, await state()).toBe("idle");
    expect(await ts.deps.queues.scoring.getJobState(jobId)).toBe("completed");
    const after = await exec<{ stale: number }>(
      "select count(*)::int as stale from (select distinct on (user_id, algorithm) generated_at from user_recommendation_lists order by user_id, algorithm, id desc) l where generated_at < ?",
      [new Date(v2.trainedAt)],
    );
    expect(after[0]!.stale).toBe(0); // every user's list is from the new model
    for (const u of await generations()) expect(u.gens).toBe(1);
    console.log(
      `[fault] worker SIGKILLed mid-training (3,000 users, 24,000 likes, 1,000 movies): new model published ${publishedMs} ms after the kill, ` +
        `every user rescored after ${doneMs} ms; the survivor's training run took ${String(trained?.durationMs ?? "?")} ms (WORKER_LOCK_MS=${LOCK_MS}, REC_TRAIN_LOCK_MS=${TRAIN_LOCK_MS}; load ${loadavg().map((l) => l.toFixed(2)).join(" ")})`,
    );
  }, 240_000);
});
