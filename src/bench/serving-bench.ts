/**
 * `npm run bench:serving [-- --duration 8 --warmup 2 --rounds 2 --processes 1,2 --connections 4 --streams 16
 *  --data-dir DIR (or DATASETS_DIR) --log-level info --ghz PATH --impressions on,off --only 'GetMovie|GetMe'
 *  --keep | --reuse SUFFIX]`: how close the API server comes to the
 *  ceiling of its own stack, and what recording shown impressions costs (`--impressions on,off` runs every call with
 *  RECORD_IMPRESSIONS on, then off, and prints the ratio).
 *
 * 1. A throw-away database gets TMDb 5000 + MovieLens small (`--data-dir DIR` or DATASETS_DIR; `npm run datasets -- DIR` prepares one), a trained model
 *    and one signed-in MovieLens user (ml_1, activated with a password) whose lists are scored.
 * 2. The real server (`node src/main.ts serve`, SERVER_PROCESSES = 1, then 2, …) and the ceiling
 *    (src/bench/ceiling-server.ts: the same listener and connect-node adapter, no interceptors, no storage, answering
 *    the response bytes captured from the real server) run in processes of their own.
 * 3. h2load (or ghz) drives each call on each server in alternation, `--rounds` times: GetMovie, ListMovies,
 *    SearchMovies, GetRecommendations cached and uncached (a loop keeps deleting the user's list from Redis while the
 *    load runs, so most calls rebuild it from PostgreSQL) and signed-in GetMe; it prints req/s, p50/p99 and the
 *    ratio to the ceiling, with the load average, since the machine may be shared.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { GetMovieRequestSchema, ListMoviesRequestSchema, SearchMoviesRequestSchema } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { Algorithm } from "../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { GetRecommendationsRequestSchema } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { GetMeRequestSchema, LoginRequestSchema, UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { loadConfig } from "../platform/config.ts";
import { createLogger } from "../platform/logger.ts";
import { importDatasets } from "../modules/catalog/dataset-import.ts";
import { requireDatasetsDir } from "../modules/catalog/dataset-files.ts";
import { openImportPool } from "../modules/catalog/import-sql.ts";
import { createPasswordHasher } from "../modules/user/index.ts";
import { ModelStore } from "../modules/recommendation/model-store.ts";
import { scoreAllUsers, trainAndPublish } from "../modules/recommendation/scoring.ts";
import { invalidateUser, listKey } from "../modules/recommendation/serving-cache.ts";
import { createImpressionRecorder } from "../modules/evaluation/index.ts";
import { nativePool } from "../modules/analytics/index.ts";
import { closeAppDeps, openAppDeps } from "../server/app-deps.ts";
import { openBenchDatabase } from "./bench-database.ts";
import { ensureH2load, ghzDriver, grpcCall, h2loadDriver, type LoadDriver, type LoadFigures, type LoadSpec } from "./load-driver.ts";
import { unlinkKeysUnder } from "../platform/redis.ts";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "8" }, warmup: { type: "string", default: "2" }, rounds: { type: "string", default: "2" },
    processes: { type: "string", default: "1,2" }, connections: { type: "string", default: "4" }, streams: { type: "string", default: "16" },
    "data-dir": { type: "string" }, "log-level": { type: "string", default: "info" }, ghz: { type: "string" }, only: { type: "string" }, "max-items": { type: "string", default: "2500" },
    impressions: { type: "string", default: "on" },
    // For iterating on one call: keep the database, the model and the cached lists for a later `--reuse SUFFIX`.
    keep: { type: "boolean" }, reuse: { type: "string" },
    // Node flags of the real server's processes only (e.g. "--max-semi-space-size=32"), to try a V8 setting.
    "server-node-options": { type: "string" },
    // Writes a V8 CPU profile of every real server process into DIR/server and of the ceiling into DIR/ceiling (open in Chrome DevTools or summarise with
    // `node src/bench/profile-summary.ts DIR/server/*.cpuprofile`): where a request's time goes.
    profile: { type: "string" },
  },
});
const repo = path.resolve(import.meta.dirname, "../..");
const PASSWORD = "bench-serving-password";
const load = () => loadavg().map((l) => l.toFixed(1)).join(" ");

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer().listen(0, "127.0.0.1", () => {
      const p = (probe.address() as { port: number }).port;
      probe.close(() => resolve(p));
    });
    probe.on("error", reject);
  });
}

const running = new Set<() => Promise<void>>();

/** A child process serving on `port`; resolves once grpc.health answers. Its stdout (the JSON log) goes to `logFile`. */
/**
 * CPU seconds (user + system) used so far by `pid` and every process below it (a cluster's copies), from /proc:
 * what a call costs the server, which the machine's other load disturbs far less than req/s (Linux only; NaN elsewhere).
 */
function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    let total = (Number(fields[11]) + Number(fields[12])) / 100; // utime and stime, in clock ticks of 1/100 s
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean)) total += cpuSecondsOf(Number(child));
    }
    return total;
  } catch {
    return Number.NaN;
  }
}

async function startProcess(cmd: string[], env: Record<string, string>, port: number, logFile: string): Promise<{ stop(): Promise<void>; cpuSeconds(): number }> {
  const out = openSync(logFile, "a");
  // One folder per kind of server: DIR/server (every process of the real one) and DIR/ceiling.
  const profiling = args.profile ? [`--cpu-prof`, `--cpu-prof-dir=${path.join(path.resolve(args.profile), cmd[0] === "src/main.ts" ? "server" : "ceiling")}`] : [];
  const nodeOptions = cmd[0] === "src/main.ts" && args["server-node-options"] ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} ${args["server-node-options"]}`.trim() } : {};
  const child = spawn(process.execPath, [...profiling, ...cmd], { cwd: repo, env: { ...process.env, ...env, ...nodeOptions, PORT: String(port) }, stdio: ["ignore", out, out] });
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    running.delete(stop);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  running.add(stop);
  const health = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
  for (let i = 0; ; i++) {
    try {
      await health.check({ service: "" });
      break;
    } catch (e) {
      // The ceiling has no health service: UNIMPLEMENTED means it is up.
      if (String(e).includes("unimplemented")) break;
      // Up to 3 minutes: a cluster's copies each load the whole code base, slowly on a busy machine.
      if (i > 900 || child.exitCode !== null) {
        child.kill("SIGKILL");
        throw new Error(`${cmd.join(" ")} did not start: ${String(e)}\n${readFileSync(logFile, "utf8").slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { stop, cpuSeconds: () => cpuSecondsOf(child.pid!) };
}

interface Call {
  name: string;
  path: string;
  request: Uint8Array;
  signedIn: boolean;
  /** Runs next to the load on the real server (e.g. dropping a cache); returns a note for the report. */
  during?: () => { stop(): Promise<string> };
}

async function main(): Promise<void> {
  const durationSec = Number(args.duration);
  const warmupSec = Number(args.warmup);
  const rounds = Number(args.rounds);
  const processCounts = args.processes.split(",").map(Number);
  const conns = Number(args.connections);
  const streams = Number(args.streams);
  const driver: LoadDriver = args.ghz
    ? ghzDriver(args.ghz, path.join(repo, "proto"), (p) => `movierec/${p.split(".")[1]}/v1/${p.split(".")[1]}_service.proto`)
    : h2loadDriver(ensureH2load());
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}, load average ${load()}`);
  console.log(`driver: ${driver.name}; ${conns} connections × ${streams} streams = ${conns * streams} calls in flight; ${warmupSec} s warm-up + ${durationSec} s per run; ${rounds} rounds`);

  const db = await openBenchDatabase({ keep: args.keep, reuse: args.reuse });
  const prefix = `benchserve${db.suffix}`;
  const env = {
    NODE_ENV: "development", LOG_LEVEL: args["log-level"], HOST: "127.0.0.1", DATABASE_URL: db.url, REDIS_URL: db.redisUrl,
    REDIS_PREFIX: prefix, ACCESS_TOKEN_TTL_SECONDS: "86400", REC_TRAIN_CRON: "off", REC_MAX_ITEMS: args["max-items"],
  };
  const config = loadConfig({ ...env, PORT: "0" });
  const deps = await openAppDeps(config, createLogger({ level: "silent" }));
  const work = mkdtempSync(path.join(tmpdir(), "bench-serving-"));
  try {
    // 1. Data: the datasets, a model, one signed-in user with scored lists.
    const em = () => deps.orm.em.fork();
    if (!db.reused) {
      let t = performance.now();
      const pool = openImportPool(db.url, 2);
      const imported = await importDatasets(pool, { dataDir: requireDatasetsDir(args["data-dir"], process.env.DATASETS_DIR), datasets: ["tmdb-5000", "movielens"] });
      await pool.end();
      console.log(`imported ${imported.rows} rows in ${imported.seconds.toFixed(1)} s`);
      const hash = await createPasswordHasher({ memoryKib: config.auth.passwordMemoryKib, iterations: config.auth.passwordIterations }).hash(PASSWORD);
      const [activated] = await em().execute<{ id: string }[]>("update users set is_active = true, password = ? where username = 'ml_1' returning id::text as id", [hash]);
      if (!activated) throw new Error("MovieLens user ml_1 is missing: is --data-dir right?");
      // Imported MovieLens users come with a profile (migration 0017); signing in needs an active account.
      await em().execute("insert into notification_preferences (user_id) values (?::bigint) on conflict do nothing", [activated.id]);
      t = performance.now();
      const store = new ModelStore(deps.redis);
      const opts = { topN: config.recommendation.topN, maxItems: config.recommendation.maxItems };
      await trainAndPublish(deps.orm, store, opts);
      await scoreAllUsers(deps.orm, deps.redis, (await store.current())!, opts);
      console.log(`model trained and ml_1 scored in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
    if (args.keep) console.log(`keeping the database, the model and the lists: rerun with --reuse ${db.suffix}`);
    const [user] = await em().execute<{ id: string }[]>("select id::text as id from users where username = 'ml_1'");
    if (!user) throw new Error(`no user ml_1 in ${db.name}`);
    const [movie] = await em().execute<{ id: string }[]>("select id::text as id from movies where title = 'The Dark Knight' union all select id::text from movies order by 1 limit 1");

    const calls: Call[] = [
      { name: "GetMovie (public, cached)", path: "/movierec.catalog.v1.CatalogService/GetMovie", request: toBinary(GetMovieRequestSchema, create(GetMovieRequestSchema, { lookup: { case: "id", value: movie!.id } })), signedIn: false },
      { name: "ListMovies (first page, cached)", path: "/movierec.catalog.v1.CatalogService/ListMovies", request: toBinary(ListMoviesRequestSchema, create(ListMoviesRequestSchema, { pageSize: 20 })), signedIn: false },
      { name: "SearchMovies (\"dark knight\")", path: "/movierec.catalog.v1.CatalogService/SearchMovies", request: toBinary(SearchMoviesRequestSchema, create(SearchMoviesRequestSchema, { query: "dark knight", pageSize: 20 })), signedIn: false },
      { name: "GetRecommendations (signed in, cached)", path: "/movierec.recommendation.v1.RecommendationService/GetRecommendations", request: toBinary(GetRecommendationsRequestSchema, create(GetRecommendationsRequestSchema, { algorithm: Algorithm.HYBRID, limit: 20 })), signedIn: true },
      // No algorithm: the caller's experiment variant or the surface's default is looked up (cached per process, 2 s).
      { name: "GetRecommendations (no algorithm, cached)", path: "/movierec.recommendation.v1.RecommendationService/GetRecommendations", request: toBinary(GetRecommendationsRequestSchema, create(GetRecommendationsRequestSchema, { limit: 20 })), signedIn: true },
      {
        name: "GetRecommendations (signed in, uncached)", path: "/movierec.recommendation.v1.RecommendationService/GetRecommendations",
        request: toBinary(GetRecommendationsRequestSchema, create(GetRecommendationsRequestSchema, { algorithm: Algorithm.HYBRID, limit: 20 })), signedIn: true,
        // Deletes the list every millisecond (a tight loop would steal a core from the server): every successful delete
        // follows at least one rebuild from PostgreSQL, so the note says how many calls at least missed the cache.
        during: () => {
          let running = true;
          let rebuilt = 0;
          const loop = (async () => {
            while (running) {
              // As a write does: Redis and every server process's local copy (a bare DEL would leave the copy).
              rebuilt += await deps.redis.exists(listKey(user.id, "hybrid"));
              await invalidateUser(deps.redis, user.id);
              await new Promise((r) => setTimeout(r, 1));
            }
          })();
          return { async stop() { running = false; await loop; return `≥ ${rebuilt} rebuilds`; } };
        },
      },
      { name: "GetMe (signed in)", path: "/movierec.user.v1.UserService/GetMe", request: toBinary(GetMeRequestSchema, create(GetMeRequestSchema, {})), signedIn: true },
    ].filter((c) => !args.only || args.only.split("|").some((o) => c.name.toLowerCase().includes(o.trim().toLowerCase())));

    // 2. The real server once, to sign in and capture the responses the ceiling will answer with.
    const realPort = await freePort();
    const realLog = path.join(work, "server.log");
    let real = await startProcess(["src/main.ts", "serve"], { ...env, SERVER_PROCESSES: "1" }, realPort, realLog);
    const realUrl = `http://127.0.0.1:${realPort}`;
    const login = await createClient(UserService, createGrpcTransport({ baseUrl: realUrl })).login(create(LoginRequestSchema, { login: "ml_1", password: PASSWORD }));
    const auth = { authorization: `Bearer ${login.accessToken}` };
    const canned: Record<string, string> = {};
    for (const c of calls) canned[c.path.slice(1)] = (await grpcCall(realUrl, c.path, c.request, c.signedIn ? auth : {})).toString("base64");
    const cannedFile = path.join(work, "canned.json");
    writeFileSync(cannedFile, JSON.stringify(canned));
    const ceilingPort = await freePort();
    const ceiling = await startProcess(["src/bench/ceiling-server.ts", cannedFile], {}, ceilingPort, path.join(work, "ceiling.log"));
    const ceilingUrl = `http://127.0.0.1:${ceilingPort}`;

    const spec = (baseUrl: string, c: Call): LoadSpec => ({ baseUrl, path: c.path, request: c.request, headers: c.signedIn ? auth : {}, durationSec, warmupSec, connections: conns, streams });
    const fmt = (f: LoadFigures) => `${f.reqPerSec.toFixed(0).padStart(6)} req/s  p50 ${f.p50Ms.toFixed(1).padStart(6)} ms  p99 ${f.p99Ms.toFixed(1).padStart(6)} ms${f.failed ? `  ${f.failed} FAILED` : ""}`;
    const results: { call: string; processes: number; impressions: string; ceiling: number; real: number; p50: number; p99: number; ceilingCpu: number; realCpu: number; load: string }[] = [];
    const impressionModes = args.impressions.split(",").map((m) => m.trim());
    const impressionRows = () => impressionRowsOf(deps);
    try {
      // The server running now: the one started above for the capture has one process and records impressions.
      // Restart whenever a stage wants something else (an earlier version compared the wanted stage with the first
      // one only, so in "off,on" the "on" stage ran on the "off" server and recorded nothing).
      let serving = { n: 1, imp: "on" };
      for (const [n, imp] of processCounts.flatMap((n) => impressionModes.map((imp) => [n, imp] as const))) {
        if (serving.n !== n || serving.imp !== imp) {
          await real.stop(); // SIGTERM: the server flushes its impression buffer before it exits
          real = await startProcess(["src/main.ts", "serve"], { ...env, SERVER_PROCESSES: String(n), RECORD_IMPRESSIONS: imp }, realPort, realLog);
          serving = { n, imp };
        }
        const written = await impressionRows();
        console.log(`\n== real server with ${n} process${n === 1 ? "" : "es"}, impressions ${imp} (${written} impression rows so far; load average ${load()})`);
        let listsServed = 0;
        for (const c of calls) {
          const ceil: LoadFigures[] = [];
          const mine: LoadFigures[] = [];
          const ceilCpu: number[] = [];
          const mineCpu: number[] = [];
          // CPU per call: the process's CPU over the whole run (warm-up included) over the calls it answered in it,
          // estimated from the measured rate (h2load counts none of the warm-up's calls).
          const cpuPerCall = (cpu: number, f: LoadFigures) => (cpu * 1e6) / (f.reqPerSec * (durationSec + warmupSec));
          for (let r = 0; r < rounds; r++) {
            const ceilingCpu = ceiling.cpuSeconds();
            ceil.push(await driver.run(spec(ceilingUrl, c), work));
            ceilCpu.push(cpuPerCall(ceiling.cpuSeconds() - ceilingCpu, ceil[r]!));
            await grpcCall(realUrl, c.path, c.request, c.signedIn ? auth : {}); // still answers OK (h2load only sees HTTP 200)
            const side = c.during?.();
            const pool = samplePool(realUrl);
            const realCpu = real.cpuSeconds();
            const f = await driver.run(spec(realUrl, c), work);
            mineCpu.push(cpuPerCall(real.cpuSeconds() - realCpu, f));
            const note = [side ? await side.stop() : "", await pool.stop()].filter(Boolean).join("; ");
            await grpcCall(realUrl, c.path, c.request, c.signedIn ? auth : {});
            mine.push(f);
            if (c.path.endsWith("/GetRecommendations")) listsServed += f.requests - f.failed;
            console.log(`  ${c.name.padEnd(42)} ceiling ${fmt(ceil[r]!)} cpu ${ceilCpu[r]!.toFixed(0)} µs/call | movierec ${fmt(f)} cpu ${mineCpu[r]!.toFixed(0)} µs/call  ratio ${(f.reqPerSec / ceil[r]!.reqPerSec).toFixed(2)} (cpu ${(ceilCpu[r]! / mineCpu[r]!).toFixed(2)}) ${note} (load ${load()})`);
          }
          const avg = (xs: LoadFigures[], k: keyof LoadFigures) => xs.reduce((s, x) => s + x[k], 0) / xs.length;
          const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
          results.push({ call: c.name, processes: n, impressions: imp, ceiling: avg(ceil, "reqPerSec"), real: avg(mine, "reqPerSec"), p50: avg(mine, "p50Ms"), p99: avg(mine, "p99Ms"), ceilingCpu: mean(ceilCpu), realCpu: mean(mineCpu), load: load() });
        }
        // Proof that a stage recorded (or did not record) what it served: rows written during it, after one flush interval.
        await new Promise((r) => setTimeout(r, 2 * config.analytics.impressionFlushMs + 500));
        const after = await impressionRows();
        console.log(`  impression rows written during this stage: ${after - written} for ${listsServed} GetRecommendations lists answered by h2load (plus warm-up and check calls)`);
      }
    } finally {
      await ceiling.stop();
      await real.stop();
    }
    if (impressionModes.includes("on")) await recorderCost(deps, user.id);
    console.log(`\nsummary (mean of ${rounds} rounds; ceiling = one process; load average at the end ${load()}):`);
    // CPU µs per call of each server (all its processes) and their ratio: the ceiling's over ours, comparable to the req/s
    // ratio when each server has a core of its own, and steadier than req/s on a shared machine.
    console.log("| call | processes | impressions | ceiling req/s | movierec req/s | ratio | p50 ms | p99 ms | ceiling cpu µs/call | movierec cpu µs/call | cpu ratio | load |");
    console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (const r of results) {
      console.log(`| ${r.call} | ${r.processes} | ${r.impressions} | ${r.ceiling.toFixed(0)} | ${r.real.toFixed(0)} | ${(r.real / r.ceiling).toFixed(2)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.ceilingCpu.toFixed(0)} | ${r.realCpu.toFixed(0)} | ${(r.ceilingCpu / r.realCpu).toFixed(2)} | ${r.load} |`);
    }
    // What recording costs: each call's throughput with recording on, relative to off (same processes).
    for (const on of results.filter((r) => r.impressions === "on")) {
      const off = results.find((r) => r.impressions === "off" && r.call === on.call && r.processes === on.processes);
      if (off) console.log(`impressions on/off: ${on.call}, ${on.processes} process(es): ${on.real.toFixed(0)} vs ${off.real.toFixed(0)} req/s (${((on.real / off.real - 1) * 100).toFixed(1)}%), p50 ${on.p50.toFixed(1)} vs ${off.p50.toFixed(1)} ms, p99 ${on.p99.toFixed(1)} vs ${off.p99.toFixed(1)} ms`);
    }
  } catch (e) {
    // The server's own account of what went wrong (its log is otherwise thrown away with the work directory).
    try {
      console.error(readFileSync(path.join(work, "server.log"), "utf8").split("\n").filter((l) => /"level":(40|50|60)/.test(l)).slice(-10).join("\n"));
    } catch {
      // no log yet
    }
    throw e;
  } finally {
    for (const stop of [...running]) await stop();
    rmSync(work, { recursive: true, force: true });
    if (!args.keep) await unlinkKeysUnder(deps.redis, prefix);
    await closeAppDeps(deps);
    await db.drop();
  }
}

/**
 * The recorder's own cost, in this process, free of the HTTP load's noise: what a request pays (`record()` of a
 * 20-item list: appending to the buffer) and what a flush costs PostgreSQL per row (one statement per batch).
 */
/**
 * Samples the server's PostgreSQL pool gauge (`GET /metrics`, summed over its processes) every 250 ms during a run:
 * the most clients seen queued for a connection, and the most connections open. Issue 13 asks that no hot read waits.
 */
function samplePool(baseUrl: string): { stop(): Promise<string> } {
  let running = true;
  let maxWaiting = 0;
  let maxOpen = 0;
  let samples = 0;
  const loop = (async () => {
    while (running) {
      const text = await fetch(`${baseUrl}/metrics`).then((r) => r.text(), () => "");
      const gauge = (state: string) => Number(new RegExp(`movierec_db_pool_connections\\{state="${state}"\\} (\\d+)`).exec(text)?.[1] ?? NaN);
      if (text) {
        samples++;
        maxWaiting = Math.max(maxWaiting, gauge("waiting") || 0);
        maxOpen = Math.max(maxOpen, gauge("total") || 0);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return `pool: ≤ ${maxWaiting} waiting, ≤ ${maxOpen} open (${samples} samples)`;
    },
  };
}

async function impressionRowsOf(deps: Awaited<ReturnType<typeof openAppDeps>>): Promise<number> {
  const [row] = await deps.orm.em.fork().execute<{ n: string }[]>("select count(*)::text as n from recommendation_impressions");
  return Number(row!.n);
}

async function recorderCost(deps: Awaited<ReturnType<typeof openAppDeps>>, userId: string): Promise<void> {
  const movies = (await deps.orm.em.fork().execute<{ id: string }[]>("select id::text as id from movies order by id limit 20")).map((r) => r.id);
  const recorder = createImpressionRecorder({ pool: nativePool(deps.orm), log: createLogger({ level: "silent" }), flushMs: 3_600_000, maxBuffer: Number.MAX_SAFE_INTEGER });
  const lists = 5000;
  const t0 = performance.now();
  for (let i = 0; i < lists; i++) recorder.record({ surface: "recommendations", userId, requestId: `bench-${Date.now()}-${i}`, algorithm: "hybrid", movieIds: movies });
  const recordUs = ((performance.now() - t0) * 1000) / lists;
  const rows = recorder.pending;
  const t1 = performance.now();
  await recorder.close();
  const flushMs = performance.now() - t1;
  console.log(`\nrecorder: record() of a ${movies.length}-item list ${recordUs.toFixed(1)} µs per request (${lists} lists); flush of ${rows} rows in one statement ${flushMs.toFixed(0)} ms (${((flushMs * 1000) / rows).toFixed(1)} µs per row; load ${load()})`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
