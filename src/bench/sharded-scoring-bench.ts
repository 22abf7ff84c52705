/**
 * `npm run bench:scoring-shards [-- --users 20000 --workers 1,2 --shard-users 1000]`: one full scoring run
 * (`score-all`, split into user ranges) on 1, then 2, … real worker processes (`node src/main.ts worker`, one process
 * each), in a throw-away database with `--users` users × 30 ratings over 2,000 movies; prints each run's time, the
 * speed-up against one worker, and the machine's load average (the figure means little on a loaded machine).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createQueues } from "../platform/queues.ts";
import { openOrm } from "../platform/orm.ts";
import { createRedis } from "../platform/redis.ts";
import { ModelStore } from "../modules/recommendation/model-store.ts";
import { JOBS } from "../modules/recommendation/rescore-queue.ts";
import { trainAndPublish } from "../modules/recommendation/scoring.ts";
import { openBenchDatabase } from "./bench-database.ts";

const { values: args } = parseArgs({ options: { users: { type: "string" }, workers: { type: "string" }, "shard-users": { type: "string" } } });
const USERS = Number(args.users ?? 20_000);
const COUNTS = (args.workers ?? "1,2").split(",").map(Number);
const SHARD_USERS = Number(args["shard-users"] ?? 1000);
const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

/** A worker process; resolves once its BullMQ workers run. */
function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MAIN, "worker"], { env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", WORKER_PROCESSES: "1", ...env }, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let seen = "";
    child.stdout!.on("data", (d: Buffer) => {
      seen += d.toString("utf8");
      if (seen.includes('"msg":"workers started"')) resolve(child);
      if (seen.length > 100_000) seen = seen.slice(-1000);
    });
    child.once("exit", (code) => reject(new Error(`worker exited with ${String(code)}`)));
  });
}

async function main() {
  const db = await openBenchDatabase();
  const orm = await openOrm(db.url, { poolMax: 4 });
  const prefix = `bench-shards-${process.pid}`;
  const redis = createRedis(db.redisUrl, { keyPrefix: `${prefix}:` });
  const queues = createQueues(db.redisUrl, prefix);
  try {
    const sql = (q: string) => orm.em.fork().execute(q);
    await sql(`insert into movies (tmdb_id, title, original_title, original_language) select i, 'Movie ' || i, 'Movie ' || i, 'en' from generate_series(1, 2000) i`);
    await sql(`insert into users (username, email, password) select 'u' || i, 'u' || i || '@example.test', 'x' from generate_series(1, ${USERS}) i`);
    await sql(
      `insert into user_movie_interactions (user_id, movie_id, interaction_type, rating, "timestamp")
       select distinct on (u.id, m.id) u.id, m.id, 'rating', 1 + (u.id + k) % 5, now() - (k * interval '1 hour')
         from users u cross join generate_series(1, 30) k
         join movies m on m.tmdb_id = 1 + ((u.id % 20) * 100 + (u.id * 7 + k * k * 13) % 100) % 2000`,
    );
    const { meta } = await trainAndPublish(orm, new ModelStore(redis), { topN: 100, maxItems: 2000 });
    const env = { NODE_ENV: "test", DATABASE_URL: db.url, REDIS_URL: db.redisUrl, REDIS_PREFIX: prefix, DB_POOL_MAX: "6", REC_TRAIN_CRON: "off", REC_BOOTSTRAP_MIN_INTERACTIONS: "0", REC_TOP_N: "100", REC_MAX_ITEMS: "2000", REC_SCORE_SHARD_USERS: String(SHARD_USERS), LOG_LEVEL: "info" };
    const results: { workers: number; seconds: number }[] = [];
    for (const n of COUNTS) {
      const workers = await Promise.all(Array.from({ length: n }, () => startWorker(env)));
      try {
        const started = performance.now();
        const job = await queues.scoring.add(JOBS.scoreAll, { version: `${meta.version}w${n}` }, { jobId: `score-all-${meta.version}w${n}` });
        for (;;) {
          const state = await (await queues.scoring.getJob(job.id!))!.getState();
          if (state === "failed") throw new Error("the run failed");
          if (state === "completed") break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const seconds = (performance.now() - started) / 1000;
        results.push({ workers: n, seconds });
        const ret = (await queues.scoring.getJob(job.id!))!.returnvalue as { users: number; shards: number };
        console.log(`${n} worker process(es): ${ret.users} users in ${ret.shards} ranges, ${seconds.toFixed(1)} s (${Math.round(ret.users / seconds)} users/s); load ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
      } finally {
        for (const w of workers) w.kill("SIGTERM");
        await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once("exit", r)))));
      }
    }
    const one = results.find((r) => r.workers === 1);
    if (one) for (const r of results) if (r.workers > 1) console.log(`speed-up with ${r.workers} workers: ×${(one.seconds / r.seconds).toFixed(2)} (${cpus().length} cores)`);
  } finally {
    await queues.scoring.obliterate({ force: true }).catch(() => undefined);
    await queues.close();
    redis.disconnect();
    await orm.close();
    await db.drop();
  }
}

await main();
