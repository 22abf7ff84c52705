/**
 * `npm run bench:scoring [-- --scale 0.1] [--calls N] [--concurrency 32] [--keep-going]`: the recommendation engine at the
 * design's volume (100,000 users, 50,000 movies, 10 million interactions; `--scale` multiplies all three), generated
 * in SQL in a throw-away database, then:
 * 1. training (what the `train` job runs: load from PostgreSQL, fit EASE / item-kNN / content / trending, publish
 *    to Redis): time by phase and the process's peak memory;
 * 2. batch scoring of every user (the `score-all` job): time and users/s;
 * 3. incremental rescoring of one user (the `rescore-user` job): p50/p99 over random users;
 * 4. GetRecommendations over gRPC (the real server in-process on port 0, signed-in users), 32 concurrent callers,
 *    uncached (each call's list dropped from Redis first) and cached: p50/p99 and requests/s.
 * Interactions follow a long tail on both sides: movie popularity is Zipf-like (movie rank ∝ u⁴: the top 1% of
 * movies get ~30% of interactions) and user activity is Pareto (α = 1.5, capped at 2,000). The data carries no taste
 * structure, so this measures cost, not quality (that is `npm run eval`). Everything it creates is dropped at the end.
 */
import { randomBytes } from "node:crypto";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { parseArgs } from "node:util";
import pg from "pg";
import type { EntityManager } from "@mikro-orm/postgresql";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { Algorithm } from "../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { loadConfig, type Config } from "../platform/config.ts";
import { ensureInfrastructure } from "../platform/dev-infra.ts";
import { createLogger, type Logger } from "../platform/logger.ts";
import { migrateUp } from "../platform/migrations.ts";
import { openOrm } from "../platform/orm.ts";
import { createUserModule } from "../modules/user/index.ts";
import { ModelStore } from "../modules/recommendation/model-store.ts";
import { rescoreUser, scoreAllUsers, trainAndPublish } from "../modules/recommendation/scoring.ts";
import { invalidateUser } from "../modules/recommendation/serving-cache.ts";
import { closeAppDeps, dependencyProbes, openAppDeps, type AppDeps } from "../server/app-deps.ts";
import { buildAuthenticator, buildImpls } from "../server/impls.ts";
import { startServer } from "../server/server.ts";
import { percentile, ratePerSecond, runLoad, type LoadResult } from "./load.ts";
import { unlinkKeysUnder } from "../platform/redis.ts";

const { values: args } = parseArgs({
  options: {
    scale: { type: "string" }, calls: { type: "string" }, concurrency: { type: "string" }, "rescore-samples": { type: "string" }, "max-items": { type: "string" },
    // For iterating on one phase: keep the generated database (and the published model) for a later `--reuse`.
    keep: { type: "boolean" }, reuse: { type: "string" }, phases: { type: "string" }, "score-users": { type: "string" },
    // Scoring threads of the one process the bench runs (REC_SCORE_THREADS of a worker; default: every core).
    threads: { type: "string" },
  },
});
const PHASES = new Set((args.phases ?? "train,score,rescore,grpc").split(","));
for (const p of PHASES) if (!["train", "score", "rescore", "grpc"].includes(p)) throw new Error(`unknown phase ${p}: train, score, rescore, grpc`);
/** Batch scoring stops after about this many users (the whole run when absent). */
const scoreUsersLimit = args["score-users"] ? Number(args["score-users"]) : undefined;
const scale = Number(args.scale ?? 1);
if (!(scale > 0 && scale <= 1)) throw new Error("--scale must be in (0, 1]");
const SIZES = { users: Math.round(100_000 * scale), movies: Math.round(50_000 * scale), interactions: Math.round(10_000_000 * scale) };
const calls = Number(args.calls ?? 4000);
const concurrency = Number(args.concurrency ?? 32);
const rescoreSamples = Number(args["rescore-samples"] ?? 200);
const maxItems = Number(args["max-items"] ?? 2500);
const SIGNED_IN = 128;
const stats = { read: 0, compute: 0, write: 0 };
const threads = Number(args.threads ?? availableParallelism());
const opts = { topN: 100, maxItems, stats, threads };
const load = () => `load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`;

/** Pareto activity (α = 1.5, capped) with the scale parameter that gives the target mean before de-duplication. */
const ALPHA = 1.5;
const CAP = 2000;
function paretoScale(mean: number): number {
  // E[min(X, cap)] for X ~ Pareto(xm, α) is xm·α/(α−1) − xm^α·cap^(1−α)/(α−1); solved for xm by bisection.
  const m = (xm: number) => (xm * ALPHA) / (ALPHA - 1) - (xm ** ALPHA * CAP ** (1 - ALPHA)) / (ALPHA - 1);
  let lo = 0.1;
  let hi = mean;
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (m(mid) < mean) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * What content scoring reads, at volume: movies with a language and a 15–35 word overview from a skewed vocabulary,
 * 1–3 genres, 5 billed cast and a director drawn with a skew towards busy people.
 */
async function generateCatalogue(em: EntityManager, movies: number, persons: number): Promise<void> {
  const syl = ["ka", "lo", "mi", "ra", "ten", "vor", "shi", "del", "an", "tor", "bel", "ri", "nu", "sa", "quin", "zen", "mar", "os", "fe", "gal"];
  const vocab = syl.flatMap((a) => syl.flatMap((b) => [a + b, ...syl.slice(0, 4).map((c) => a + b + c)]));
  await em.transactional(async (tx) => {
    await tx.execute("set local session_replication_role = replica");
    await tx.execute("select setseed(0.42)");
    await tx.execute("insert into genres (tmdb_id, name, slug) select 10000 + g, 'Genre ' || g, 'genre-' || g from generate_series(1, 50) g");
    await tx.execute(
      `with v as (select ?::text[] as w)
       insert into movies (tmdb_id, title, original_title, overview, original_language, popularity_score, release_date)
       select i, 'Movie ' || i, 'Movie ' || i,
              (select string_agg(v.w[1 + floor(power(random(), 1.5) * array_length(v.w, 1))::int], ' ') from generate_series(1, 15 + (i % 20)) k, v where i > 0),
              case when random() < 0.7 then 'en' else (array['fr','es','de','ja','ko','it','hi','zh'])[1 + floor(random() * 8)::int] end,
              power(random(), 6) * 900, date '1950-01-01' + floor(random() * 27000)::int
         from generate_series(1, ?) i`,
      [`{${vocab.join(",")}}`, movies],
    );
    await tx.execute("insert into movie_genres (movie_id, genre_id) select m.id, 1 + floor(power(random(), 1.5) * 50)::int from movies m, generate_series(1, 1 + (m.id % 3)::int) k on conflict do nothing");
    await tx.execute("insert into persons (tmdb_id, name, known_for_department) select i, 'Person ' || i, 'Acting' from generate_series(1, ?) i", [persons]);
    await tx.execute(
      `insert into movie_cast (movie_id, person_id, "character", "order")
       select m.id, p.lo + floor(power(random(), 1.5) * (p.hi - p.lo + 1))::bigint, 'Role ' || k, k - 1
         from movies m, generate_series(1, 5) k, (select min(id) lo, max(id) hi from persons) p where k > 0`,
    );
    await tx.execute(
      `insert into movie_crew (movie_id, person_id, job, department)
       select m.id, p.lo + floor(power(random(), 1.5) * (p.hi - p.lo + 1))::bigint, 'Director', 'Directing' from movies m, (select min(id) lo, max(id) hi from persons) p`,
    );
  });
}

/** Interactions for `users` (ids from the select), each user's count Pareto-distributed, movies Zipf-like. */
function interactionsSql(usersSelect: string, xm: number): string {
  // random() correlated on the outer row (k, u.id) so each row draws its own values; distinct on keeps one type per pair.
  return `insert into user_movie_interactions (user_id, movie_id, interaction_type, rating, "timestamp")
    select distinct on (u.id, mv.m) u.id, mv.m, t.type, case when t.type = 'rating' then 1 + floor(random() * 5)::int end,
           now() - power(random(), 2) * interval '365 days' - (k % 7) * interval '1 minute'
      from (select min(id) as lo, max(id) as hi from movies) bounds, (${usersSelect}) u
      cross join lateral (select least(${CAP}, floor(${xm} / power(1 - random(), 1 / ${ALPHA})))::int as n where u.id > 0) c
      cross join lateral generate_series(1, c.n) k
      cross join lateral (select bounds.lo + floor((bounds.hi - bounds.lo + 1) * power(random(), 4))::bigint as m where k > 0) mv
      cross join lateral (select case when r < 0.62 then 'view' when r < 0.77 then 'like' when r < 0.80 then 'dislike'
                                      when r < 0.92 then 'rating' when r < 0.96 then 'watchlist' when r < 0.98 then 'favorite' else 'share' end as type
                            from (select random() as r where k > 0) rr) t
    on conflict do nothing`;
}

async function generateInteractions(em: EntityManager, users: number, interactions: number): Promise<void> {
  const xm = paretoScale(interactions / users);
  await em.transactional(async (tx) => {
    // A throw-away database: foreign-key triggers are skipped for the load (every id is valid by construction).
    await tx.execute("set local session_replication_role = replica");
    await tx.execute("select setseed(0.17)");
    await tx.execute(`insert into users (username, email, password, date_joined) select 'bench_' || i, 'bench_' || i || '@bench.test', 'x', now() - interval '400 days' from generate_series(1, ?) i`, [users]);
    await tx.execute(interactionsSql("select id from users", xm));
  });
  await em.execute("analyze");
}

const pct = percentile;
const fmt = (ms: number) => `${ms.toFixed(1).padStart(7)} ms`;
const report = (name: string, r: LoadResult) =>
  console.log(`  ${name.padEnd(44)} p50 ${fmt(pct(r.latencies, 50))}  p99 ${fmt(pct(r.latencies, 99))}  ${ratePerSecond(r).toFixed(0).padStart(6)} req/s`);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const seconds = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1);

async function admin(adminUrl: string, sql: string, params: unknown[] = []): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(sql, params);
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${mib(totalmem())} RAM, node ${process.version}; scale ${scale}: ${JSON.stringify(SIZES)}; ${load()}`);
  const infra = await ensureInfrastructure({ databaseUrl: process.env.DATABASE_URL, redisUrl: process.env.REDIS_URL, dataDir: path.resolve(".data/bench") });
  const suffix = args.reuse ?? randomBytes(4).toString("hex");
  const dbName = `movierec_bench_scoring_${suffix}`;
  if (!args.reuse) await admin(infra.databaseUrl, `create database "${dbName}"`);
  const dbUrl = new URL(infra.databaseUrl);
  dbUrl.pathname = `/${dbName}`;
  const config = loadConfig({
    ...process.env, NODE_ENV: "development", LOG_LEVEL: "silent", DATABASE_URL: dbUrl.toString(), REDIS_URL: infra.redisUrl,
    REDIS_PREFIX: `benchrec${suffix}`, HOST: "127.0.0.1", PORT: "0", DB_POOL_MAX: "16",
    // The callers sign in before training and batch scoring, which outlast the default 15-minute token at full scale.
    ACCESS_TOKEN_TTL_SECONDS: "86400",
  });
  const log = createLogger({ level: "silent" });
  const deps = await openAppDeps(config, log);
  try {
    let t = performance.now();
    // Generating takes long enough for Redis to connect; a reused database goes straight to Redis (no offline queue).
    if (deps.redis.status !== "ready") await once(deps.redis, "ready");
    const callers = args.reuse ? [] : await generate(deps, suffix);
    if (args.keep) console.log(`keeping the database and the model: rerun with --reuse ${suffix}`);

    // 1. Training.
    const store = new ModelStore(deps.redis);
    let stored = await store.current();
    if (PHASES.has("train") || !stored) {
      const rssBefore = process.memoryUsage().rss;
      t = performance.now();
      // What a worker would do with this configuration: REC_TUNE_SECONDS (default 60; 0 = no tuning) was read by
      // loadConfig but never passed on before, so every run tuned for up to a minute after a validation fit of its own.
      const trained = await trainAndPublish(deps.orm, store, { ...opts, tuneSeconds: config.recommendation.tuneSeconds });
      const trainWall = (performance.now() - t) / 1000;
      const peak = process.resourceUsage().maxRSS * 1024;
      stored = (await store.current())!;
      console.log(`\ntraining: ${trainWall.toFixed(1)} s in all (load from PostgreSQL ${trained.loadSeconds.toFixed(1)} s, fit ${(trained.meta.trainSeconds - trained.loadSeconds).toFixed(1)} s, publish ${(trainWall - trained.meta.trainSeconds).toFixed(1)} s); ${load()}`);
      const tuning = stored.meta.tuning?.validation;
      console.log(`  tuning (REC_TUNE_SECONDS=${config.recommendation.tuneSeconds}): ${tuning ? `${tuning.seconds.toFixed(1)} s of the fit (validation model, ${tuning.candidates} settings${tuning.truncated ? ", cut by the budget" : ""})` : "off"}`);
      console.log(`  ${trained.meta.userCount} users × ${trained.meta.movieCount} movies, ${trained.meta.interactionCount} interactions (${trained.data.user.length} user-movie pairs); EASE on ${stored.model.ease.items.length} items, kNN ${stored.model.knn.indices.length} neighbours`);
      console.log(`  peak RSS ${mib(peak)} (before training ${mib(rssBefore)}); heap now ${mib(process.memoryUsage().heapUsed)}; artefact ${mib((await deps.redis.strlen(`rec:model:blob:${trained.meta.version}`)))} in Redis`);
    }
    const model = stored;

    // 2. Batch scoring of everyone.
    if (PHASES.has("score")) {
      t = performance.now();
      let lastReport = performance.now();
      const stop = new AbortController();
      const all = await scoreAllUsers(deps.orm, deps.redis, model, opts, {
        onBatch: async (_after, done) => {
          if (scoreUsersLimit !== undefined && done >= scoreUsersLimit) stop.abort();
          if (performance.now() - lastReport > 30_000) {
            lastReport = performance.now();
            console.log(`  … ${done} users scored after ${seconds(t)} s`);
          }
        },
        signal: stop.signal,
      });
      const batchSeconds = (performance.now() - t) / 1000;
      console.log(`batch scoring: ${all.users} users, ${all.rows} list items in ${batchSeconds.toFixed(1)} s (${(all.users / batchSeconds).toFixed(0)} users/s, ${threads} scoring thread${threads === 1 ? "" : "s"}); peak RSS ${mib(process.resourceUsage().maxRSS * 1024)}; ${load()}`);
      console.log(`  time by phase, summed over concurrent batches: read histories ${(stats.read / 1000).toFixed(1)} s, compute ${(stats.compute / 1000).toFixed(1)} s, write (list COPY + reasons) ${(stats.write / 1000).toFixed(1)} s`);
    }

    // 3. Incremental rescoring of single users (the job's work: read history, fold in, replace rows, reasons).
    if (PHASES.has("rescore")) {
      const sample = await deps.orm.em.fork().execute<{ id: string }[]>("select id::text as id from users tablesample bernoulli (5) repeatable (7) limit ?", [rescoreSamples]);
      const lat: number[] = [];
      for (const { id } of sample) {
        const t0 = performance.now();
        await rescoreUser(deps.orm, deps.redis, model, id, opts);
        lat.push(performance.now() - t0);
      }
      console.log(`incremental rescoring (one user, sequential, ${lat.length} users): p50 ${fmt(pct(lat, 50))}  p99 ${fmt(pct(lat, 99))}  max ${fmt(Math.max(...lat))}`);
    }

    // 4. GetRecommendations over gRPC.
    if (PHASES.has("grpc") && callers.length > 0) await grpcPhase(config, log, deps, callers);
  } finally {
    if (!args.keep) await dropAll(config.redisPrefix, deps, infra.databaseUrl, dbName);
    else await closeAppDeps(deps);
    await infra.stop();
  }
}

/** Generates the catalogue, the users and their interactions, and the signed-in callers of the gRPC phase. */
async function generate(deps: AppDeps, suffix: string) {
  let t = performance.now();
  await migrateUp(deps.orm);
  await generateCatalogue(deps.orm.em.fork(), SIZES.movies, Math.max(1000, Math.round(200_000 * scale)));
  console.log(`catalogue generated in ${seconds(t)} s`);
  t = performance.now();
  await generateInteractions(deps.orm.em.fork(), SIZES.users, SIZES.interactions);
  console.log(`users and interactions generated in ${seconds(t)} s`);

  // Signed-in callers for the gRPC part: real accounts (real sessions), with interactions like everyone's.
  t = performance.now();
  const users = createUserModule(deps);
  const callers: { userId: string; headers: Record<string, string> }[] = [];
  for (let k = 0; k < SIGNED_IN; k++) {
    const name = `caller_${suffix}_${k}`;
    const reg = await users.accounts.register(
      { username: name, email: `${name}@bench.test`, password: `pw-${randomBytes(8).toString("hex")}`, firstName: "", lastName: "", dateOfBirth: "", phoneNumber: "", requestId: "" },
      { ip: "127.0.0.1", userAgent: "bench" },
    );
    callers.push({ userId: reg.account.user.id, headers: { authorization: `Bearer ${reg.tokens.accessToken}` } });
  }
  await deps.orm.em.fork().execute(interactionsSql(`select id from users where username like 'caller\\_${suffix}\\_%'`, paretoScale(SIZES.interactions / SIZES.users)));
  const counts = (await deps.orm.em.fork().execute<{ users: string; movies: string; interactions: string }[]>(
    "select (select count(*) from users) users, (select count(*) from movies) movies, (select count(*) from user_movie_interactions) interactions",
  ))[0]!;
  console.log(`${SIGNED_IN} signed-in callers registered in ${seconds(t)} s; database holds ${counts.users} users, ${counts.movies} movies, ${counts.interactions} interactions`);
  return callers;
}

async function grpcPhase(config: Config, log: Logger, deps: AppDeps, callers: { userId: string; headers: Record<string, string> }[]): Promise<void> {
  const server = await startServer({ config, log, probes: dependencyProbes(deps), impls: buildImpls(deps), authenticate: buildAuthenticator(deps) });
  try {
    const client = createClient(RecommendationService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.port}` }));
    const call = (i: number) => client.getRecommendations({ algorithm: Algorithm.HYBRID, limit: 20 }, { headers: callers[i % callers.length]!.headers });
    const first = await call(0);
    console.log(`\nGetRecommendations over gRPC, ${concurrency} concurrent callers, ${calls} calls (${callers.length} signed-in users, limit 20, hybrid; the callers run in the server's own process); ${load()}:`);
    console.log(`  sample: ${first.recommendations.slice(0, 3).map((r) => `${r.movie?.title} (${r.score.toFixed(2)}, "${r.reason}")`).join(" | ")}`);
    report("uncached (list dropped from Redis first)", await runLoad(calls, concurrency, call, (i) => invalidateUser(deps.redis, callers[i % callers.length]!.userId)));
    await Promise.all(callers.map((_, i) => call(i)));
    report("cached", await runLoad(calls, concurrency, call));
  } finally {
    await server.close();
  }
}

/** Everything the run created: its Redis keys (the model blob is tens of MiB) and its database. */
async function dropAll(prefix: string, deps: AppDeps, adminUrl: string, dbName: string): Promise<void> {
  await unlinkKeysUnder(deps.redis, prefix);
  await closeAppDeps(deps);
  await admin(adminUrl, "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()", [dbName]);
  await admin(adminUrl, `drop database if exists "${dbName}"`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
