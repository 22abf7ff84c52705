/**
 * A full scoring run shared by two real worker processes (`node src/main.ts worker`): `score-all` splits the users
 * into ranges (REC_SCORE_SHARD_USERS) that both processes take from the queue, and every scorable user is scored
 * exactly once in the run — a PostgreSQL trigger of this test records the transaction of every row written to
 * user_recommendation_lists, so a user scored twice (two transactions) or skipped (none) shows.
 */
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import type { Job } from "bullmq";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { openOrm } from "../../src/platform/orm.ts";
import { createQueues, type Queues } from "../../src/platform/queues.ts";
import { ModelStore } from "../../src/modules/recommendation/model-store.ts";
import { JOBS } from "../../src/modules/recommendation/rescore-queue.ts";
import { rangeJobId } from "../../src/modules/recommendation/score-all-shards.ts";
import { trainAndPublish } from "../../src/modules/recommendation/scoring.ts";
import type { TestDatabase } from "../support/database.ts";
import { startWorkerProcess, type WorkerProcess } from "../../src/platform/dev-infra-role-process.ts";
import { createMigratedDatabase, waitUntil } from "../faults/support/own-database.ts";
import { openTestRedis } from "../support/redis.ts";

const USERS = 1200;
const SHARD_USERS = 100;
let db: TestDatabase;
let orm: MikroORM;
let redis: Redis;
let queues: Queues;
let env: Record<string, string>;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  db = await createMigratedDatabase();
  orm = await openOrm(db.url, { poolMax: 4 });
  const prefix = `${inject("redisPrefix")}shards${process.pid}`;
  redis = await openTestRedis(`${prefix}:`);
  queues = createQueues(inject("redisUrl"), prefix);
  const sql = (q: string) => orm.em.fork().execute(q);
  // USERS users (a few inactive, a few with nothing: neither is scorable) with 20 ratings each over 400 movies.
  await sql(`insert into movies (tmdb_id, title, original_title, original_language) select i, 'Movie ' || i, 'Movie ' || i, 'en' from generate_series(1, 400) i`);
  await sql(`insert into users (username, email, password, is_active) select 'u' || i, 'u' || i || '@example.test', 'x', i % 97 <> 0 from generate_series(1, ${USERS}) i`);
  await sql(
    `insert into user_movie_interactions (user_id, movie_id, interaction_type, rating, "timestamp")
     select distinct on (u.id, m.id) u.id, m.id, 'rating', 1 + (u.id + k) % 5, now() - (k * interval '1 hour')
       from users u cross join generate_series(1, 20) k
       join movies m on m.tmdb_id = 1 + ((u.id % 8) * 50 + (u.id * 7 + k * k * 13) % 50) % 400
      where u.id % 101 <> 0`,
  );
  // The test's witness: each (user, transaction) that wrote a recommendation list.
  await sql(`create table score_audit (user_id bigint, tx bigint, primary key (user_id, tx))`);
  await sql(`create function score_audit() returns trigger language plpgsql as $$
    begin insert into score_audit values (new.user_id, txid_current()) on conflict do nothing; return new; end $$`);
  await sql(`create trigger score_audit after insert or update on user_recommendation_lists for each row execute function score_audit()`);
  env = {
    NODE_ENV: "test",
    DATABASE_URL: db.url,
    REDIS_URL: inject("redisUrl"),
    REDIS_PREFIX: prefix,
    DB_POOL_MAX: "4",
    REC_TRAIN_CRON: "off",
    REC_BOOTSTRAP_MIN_INTERACTIONS: "0",
    REC_TOP_N: "10",
    REC_MAX_ITEMS: "400",
    REC_SCORE_SHARD_USERS: String(SHARD_USERS),
    // Lists computed on scoring threads (score-threads.ts): exactly once holds with the compute off the process's thread.
    REC_SCORE_THREADS: "2",
    DIGEST_TICK_MS: "3600000",
    // A killed worker's ranges are found stalled and taken by the other within a few seconds.
    WORKER_LOCK_MS: "2000",
  };
}, 120_000);
afterAll(async () => {
  for (const w of workers) await w.kill("SIGKILL");
  await queues?.scoring.obliterate({ force: true }).catch(() => undefined);
  await queues?.close();
  redis?.disconnect();
  await orm?.close(true);
  await db?.drop();
});

describe("sharded score-all", () => {
  it("two worker processes share the ranges and score every scorable user exactly once", async () => {
    const { meta } = await trainAndPublish(orm, new ModelStore(redis), { topN: 10, maxItems: 400 });
    for (let k = 0; k < 2; k++) workers.push(startWorkerProcess(env));
    await Promise.all(workers.map((w) => w.waitForLog((l) => l.msg === "workers started", 60_000)));
    const scorable = Number((await orm.em.fork().execute<{ n: string }[]>(
      `select count(*) as n from users u where u.is_active and exists (select 1 from user_movie_interactions i where i.user_id = u.id)`,
    ))[0].n);
    expect(scorable).toBeGreaterThan(USERS * 0.95);

    const started = performance.now();
    const run = await queues.scoring.add(JOBS.scoreAll, { version: meta.version }, { jobId: `score-all-${meta.version}` });
    const explain = async () => `run: ${await (await queues.scoring.getJob(run.id!))?.getState()}; worker lines:\n${workers.flatMap((w) => w.lines.slice(-5)).map((l) => JSON.stringify(l)).join("\n")}`;
    const state = await waitUntil("the run to finish", async () => {
      const s = await (await queues.scoring.getJob(run.id!))!.getState();
      return s === "completed" || s === "failed" ? s : undefined;
    }, 120_000, 100, explain);
    const seconds = (performance.now() - started) / 1000;
    expect(state).toBe("completed");
    const done = (await queues.scoring.getJob(run.id!))!;
    const shards = Math.floor(scorable / SHARD_USERS) + 1;
    expect(done.returnvalue).toMatchObject({ users: scorable, shards });
    console.log(`[score-all-shards] ${scorable} users in ${shards} ranges on 2 worker processes: ${seconds.toFixed(1)} s`);

    // Exactly once: every scorable user written by one transaction, nobody else written.
    const audit = await orm.em.fork().execute<{ users: string; twice: string; unscorable: string }[]>(
      `select count(distinct a.user_id) as users,
              (select count(*) from (select user_id from score_audit group by user_id having count(*) > 1) t) as twice,
              count(*) filter (where not u.is_active or not exists (select 1 from user_movie_interactions i where i.user_id = u.id)) as unscorable
         from score_audit a join users u on u.id = a.user_id`,
    );
    expect({ users: Number(audit[0].users), twice: Number(audit[0].twice), unscorable: Number(audit[0].unscorable) }).toEqual({ users: scorable, twice: 0, unscorable: 0 });

    // Both processes took ranges (the worker name is host:pid).
    const ranges = (await Promise.all(Array.from({ length: shards }, (_, k) => queues.scoring.getJob(rangeJobId(meta.version, k))))) as Job[];
    expect(ranges.every((j) => j?.finishedOn)).toBe(true);
    const takers = new Set(ranges.map((j) => j.processedBy));
    expect([...takers].sort()).toEqual(workers.map((w) => `${String(ranges[0].processedBy).split(":")[0]}:${w.child.pid}`).sort());
    // The ranges together are the users: their counts add up, each within its bound.
    expect(ranges.reduce((a, j) => a + (j.returnvalue as { users: number }).users, 0)).toBe(scorable);
    expect(ranges.slice(0, -1).every((j) => (j.returnvalue as { users: number }).users === SHARD_USERS)).toBe(true);
  }, 180_000);

  it("a worker killed in the middle of a run: the other finishes its ranges, nobody is skipped", async () => {
    const { meta } = await trainAndPublish(orm, new ModelStore(redis), { topN: 10, maxItems: 400 });
    await orm.em.fork().execute("truncate score_audit");
    const [victim, survivor] = workers;
    const before = victim.lines.length;
    const version = `${meta.version}kill`;
    const run = await queues.scoring.add(JOBS.scoreAll, { version }, { jobId: `score-all-${version}` });
    // Kill the first worker as soon as it has finished one range: it still holds the others it took (4 at a time).
    await victim.waitForLog((l) => victim.lines.indexOf(l) >= before && l.msg === "score range done", 60_000);
    await victim.kill("SIGKILL");
    const state = await waitUntil("the run to finish on the surviving worker", async () => {
      const s = await (await queues.scoring.getJob(run.id!))!.getState();
      return s === "completed" || s === "failed" ? s : undefined;
    }, 120_000, 100, () => survivor.lines.slice(-8).map((l) => JSON.stringify(l)).join("\n"));
    expect(state).toBe("completed");
    const shards = ((await queues.scoring.getJob(run.id!))!.returnvalue as { shards: number }).shards;
    const ranges = (await Promise.all(Array.from({ length: shards }, (_, k) => queues.scoring.getJob(rangeJobId(version, k))))) as Job[];
    const retaken = ranges.filter((j) => j.stalledCounter > 0).length;
    const audit = await orm.em.fork().execute<{ users: string; twice: string }[]>(
      `select count(distinct user_id) as users, (select count(*) from (select user_id from score_audit group by user_id having count(*) > 1) t) as twice from score_audit`,
    );
    const scorable = Number((await orm.em.fork().execute<{ n: string }[]>(
      `select count(*) as n from users u where u.is_active and exists (select 1 from user_movie_interactions i where i.user_id = u.id)`,
    ))[0].n);
    console.log(`[score-all-shards] worker killed mid-run: ${retaken} of ${shards} ranges taken again by the other worker; ${audit[0].twice} users scored a second time (their batch committed before the kill)`);
    // None skipped; a second scoring only for users whose batch the dead worker had committed but not yet recorded
    // as its range's progress (at most its 4 ranges in flight, one batch pair each: 4 × 400).
    expect(Number(audit[0].users)).toBe(scorable);
    expect(Number(audit[0].twice)).toBeLessThanOrEqual(4 * 400);
    expect(ranges.every((j) => j.processedBy === `${String(j.processedBy).split(":")[0]}:${survivor.child.pid}` || j.processedBy?.endsWith(`:${victim.child.pid}`))).toBe(true);
  }, 180_000);
});
