/**
 * The service on a real Redis Cluster (3 masters + 3 replicas, tests/faults/support/redis-cluster.ts), with
 * REDIS_URL=redis+cluster://…: the API (sign-in with its Lua rate limiter, sessions, catalogue cache) and a real
 * worker process (BullMQ queues, the sharded score-all flow with parent and children, rescoring, the model store)
 * all work — a command touching keys of two slots would fail with CROSSSLOT — with the keys spread over every master.
 * Then the master holding the scoring queue's slot is SIGKILLed: its replica takes over, the journey goes on and the
 * worker rescores again; the failover time is printed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster } from "ioredis";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { InteractionType } from "../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { ModelStore } from "../../src/modules/recommendation/model-store.ts";
import { JOBS } from "../../src/modules/recommendation/rescore-queue.ts";
import { trainAndPublish } from "../../src/modules/recommendation/scoring.ts";
import type { TestDatabase } from "../support/database.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser } from "../auth/test-users.ts";
import { queuePrefix } from "../../src/platform/queues.ts";
import { startWorkerProcess, type WorkerProcess } from "./support/worker-process.ts";
import { createMigratedDatabase, waitUntil } from "./support/own-database.ts";
import { startRedisCluster, type RedisClusterNodes } from "./support/redis-cluster.ts";

const PREFIX = "mrcluster";
let cluster: RedisClusterNodes;
let db: TestDatabase;
let ts: TestServer;
let worker: WorkerProcess;
let env: Record<string, string>;

beforeAll(async () => {
  [cluster, db] = await Promise.all([startRedisCluster(), createMigratedDatabase()]);
  env = { NODE_ENV: "test", DATABASE_URL: db.url, REDIS_URL: cluster.url, REDIS_PREFIX: PREFIX, DB_POOL_MAX: "4", REC_RESCORE_DEBOUNCE_MS: "0", REC_TRAIN_CRON: "off", REC_BOOTSTRAP_MIN_INTERACTIONS: "0", REC_TOP_N: "10", REC_SCORE_SHARD_USERS: "20", DIGEST_TICK_MS: "3600000" };
  ts = await startTestServer({ env });
  const sql = (q: string) => ts.orm.em.fork().execute(q);
  await sql(`insert into movies (tmdb_id, title, original_title, original_language) select 900000000 + i, 'Cluster ' || i, 'Cluster ' || i, 'en' from generate_series(1, 60) i`);
  await sql(`insert into users (username, email, password) select 'c' || i, 'c' || i || '@example.test', 'x' from generate_series(1, 80) i`);
  await sql(
    `insert into user_movie_interactions (user_id, movie_id, interaction_type, rating, "timestamp")
     select distinct on (u.id, m.id) u.id, m.id, 'rating', 4, now() - (k * interval '1 hour')
       from users u cross join generate_series(1, 10) k join movies m on m.tmdb_id = 900000001 + (u.id * 7 + k * k) % 60`,
  );
  worker = startWorkerProcess(env);
  await worker.waitForLog((l) => l.msg === "workers started", 60_000);
}, 180_000);
afterAll(async () => {
  await worker?.kill("SIGKILL");
  await ts?.close().catch(() => undefined);
  await db?.drop();
  await cluster?.destroy();
});

describe("on a Redis Cluster", () => {
  it("serves the journey and runs the jobs, then goes on after the scoring queue's master is killed", async () => {
    const transport = createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" });
    const [users, catalog, recs] = [createClient(UserService, transport), createClient(CatalogService, transport), createClient(RecommendationService, transport)];
    // Really a cluster client.
    expect(ts.redis).toBeInstanceOf(Cluster);
    const alice = await createTestUser(ts.deps, { prefix: "cl" });
    // Sign-in: the login rate limiter's Lua script and the session store.
    const login = await users.login({ login: alice.username, password: alice.password });
    expect(login.accessToken).not.toBe("");
    const movie = String((await ts.orm.em.fork().execute<{ id: string }[]>("select id::text as id from movies order by id limit 1"))[0].id);
    for (let k = 0; k < 2; k++) expect((await catalog.getMovie({ lookup: { case: "id", value: movie } })).movie?.id).toBe(movie);

    // The model store, then the sharded score-all: a BullMQ flow (parent waiting for its children) on the worker.
    const { meta } = await trainAndPublish(ts.orm, new ModelStore(ts.redis), { topN: 10, maxItems: 60 });
    const run = await ts.deps.queues.scoring.add(JOBS.scoreAll, { version: meta.version }, { jobId: `score-all-${meta.version}` });
    const state = await waitUntil("score-all on the cluster", async () => {
      const s = await (await ts.deps.queues.scoring.getJob(run.id!))?.getState();
      return s === "completed" || s === "failed" ? s : undefined;
    }, 60_000, 100, () => worker.lines.slice(-10).map((l) => JSON.stringify(l)).join("\n"));
    expect(state).toBe("completed");
    expect((await ts.deps.queues.scoring.getJob(run.id!))!.returnvalue).toMatchObject({ users: 80, shards: 5 });

    // A write and its rescoring by the worker (the rescore job through the cluster).
    const rescored = async (since: Date) =>
      Number((await ts.orm.em.fork().execute<{ n: string }[]>("select count(*) as n from user_recommendation_lists where user_id = ?::bigint and generated_at >= ?", [alice.userId, since]))[0].n) > 0 ? true : undefined;
    let since = new Date();
    await recs.recordInteraction({ movieId: movie, type: InteractionType.LIKE }, { headers: alice.headers });
    await waitUntil("alice rescored", () => rescored(since), 30_000, 100);

    // The keys are spread: every master holds some of the service's (lists, reasons, movies, queues each on their own).
    const perMaster = await Promise.all((ts.redis as unknown as Cluster).nodes("master").map((n) => n.dbsize()));
    expect(perMaster.length).toBe(3);
    for (const n of perMaster) expect(n).toBeGreaterThan(0);

    // Failover: kill the master that holds the scoring queue (its own hash slot, see queuePrefix).
    const scoringSlot = queuePrefix(cluster.url, PREFIX, "scoring");
    const master = await cluster.masterOf(scoringSlot);
    const killed = performance.now();
    await cluster.kill(master);
    const promoted = await cluster.failedOver(scoringSlot, master);
    const promotedMs = performance.now() - killed;
    // The journey again, retried until it answers: the API fails fast while the slot has no master.
    since = new Date();
    const other = String((await ts.orm.em.fork().execute<{ id: string }[]>("select id::text as id from movies order by id desc limit 1"))[0].id);
    await waitUntil("the journey after the failover", async () => {
      await recs.recordInteraction({ movieId: other, type: InteractionType.LIKE }, { headers: alice.headers });
      return (await catalog.getMovie({ lookup: { case: "id", value: other } })).movie?.id;
    }, 60_000, 200);
    const journeyMs = performance.now() - killed;
    await waitUntil("alice rescored after the failover", () => rescored(since), 60_000, 100, () => worker.lines.slice(-10).map((l) => JSON.stringify(l)).join("\n"));
    const rescoredMs = performance.now() - killed;
    console.log(`[redis-cluster] keys per master ${perMaster.join("/")}; master :${master} (scoring queue) killed; replica :${promoted} master after ${Math.round(promotedMs)} ms; journey answering after ${Math.round(journeyMs)} ms; worker rescoring after ${Math.round(rescoredMs)} ms`);
    expect(promoted).not.toBe(master);
  }, 240_000);
});
