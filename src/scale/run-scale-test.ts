/**
 * `npm run test:scale [-- --users 8000 --recipients 500 --timeout-s 600]`: the service on a local multi-node
 * topology (topology.ts: Redis Cluster 3+3, PostgreSQL primary + streaming replica, 2 API and 2 worker processes of
 * the real app, a local SMTP server), then checks, each failing the run with a message saying what was expected:
 *
 *   1. health and /metrics per API process;
 *   2. the user journey alternating between the two APIs, and a sign-out on one refused by the other;
 *   3. a staff edit through API A seen at once through API B (the catalogue cache in Redis);
 *   4. a staff SendNotification to `recipients` users, each delivered exactly once into the SMTP server;
 *   5. training, then full scoring runs split into ranges: with 2 workers (both must take ranges) and with 1, timed;
 *   6. the Redis master of the scoring queue's slot SIGKILLed while a journey loop runs: failover times printed,
 *      nothing acknowledged lost;
 *   7. the replica stopped: reads through both APIs answer from the primary.
 *
 * Prints a table of the figures with the load average. Bounded by a global timeout; everything it started
 * (processes, temp directories) is stopped and removed on success, failure, timeout and Ctrl-C.
 */
import { parseArgs } from "node:util";
import { machineLine, loadLine } from "../bench/conditions.ts";
import { apiOf, login, type Api } from "./api.ts";
import { broadcastOnce } from "./checks/broadcast.ts";
import { editSeenOnOtherApi } from "./checks/cache-invalidation.ts";
import { browseAndLike, healthAndMetrics, logoutSeenElsewhere, newUser } from "./checks/journey.ts";
import { masterKilledMidRun } from "./checks/redis-failover.ts";
import { replicaStoppedReadsGoOn } from "./checks/replica-fallback.ts";
import { scoringRunDone, timedScoringRun, trainModel } from "./checks/sharded-scoring.ts";
import { check, Figures, msSince, ScaleCheckFailed } from "./report.ts";
import { seedScaleData, type SeededData } from "./seed.ts";
import { queuePrefix } from "../platform/queues.ts";
import { Cleanup, SCALE_PREFIX, startTopology, type Topology } from "./topology.ts";

const { values: args } = parseArgs({ options: { users: { type: "string" }, recipients: { type: "string" }, "timeout-s": { type: "string" } } });
const USERS = Number(args.users ?? 8000);
const RECIPIENTS = Number(args.recipients ?? 500);
const TIMEOUT_S = Number(args["timeout-s"] ?? 600);
if (!(USERS >= RECIPIENTS && RECIPIENTS > 0 && TIMEOUT_S > 0)) throw new Error("--users ≥ --recipients > 0 and --timeout-s > 0 please");

const log = (msg: string) => console.log(`[scale] ${msg}`);
const figures = new Figures();
const cleanup = new Cleanup();
const started = performance.now();
let current = "start";
let topology: Topology | undefined;
let finishing: Promise<never> | undefined;

/** Stops everything, prints the outcome, exits; once. */
function finish(code: number, why?: string): Promise<never> {
  finishing ??= (async () => {
    if (why) {
      console.error(`\n[scale] FAILED during "${current}": ${why}`);
      for (const node of topology ? [...topology.apis, ...topology.workers] : []) {
        const trouble = node.proc.lines.filter((l) => Number(l.level ?? 0) >= 40 || "stderr" in l).slice(-6);
        if (trouble.length) console.error(`[scale] ${node.name}'s last warnings:\n${trouble.map((l) => `  ${JSON.stringify(l).slice(0, 400)}`).join("\n")}`);
      }
    }
    log("stopping everything this run started");
    await cleanup.run(log);
    if (figures.rows.length) console.log(`\n${figures.table()}\n`);
    console.log(`[scale] ${code === 0 ? "PASSED" : "FAILED"} in ${(msSince(started) / 1000).toFixed(0)} s; ${loadLine()}`);
    process.exit(code);
  })();
  return finishing;
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => void finish(130, `interrupted (${signal})`));
setTimeout(() => void finish(1, `the global timeout of ${TIMEOUT_S} s passed`), TIMEOUT_S * 1000).unref();

async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  current = name;
  const t0 = performance.now();
  log(`▶ ${name}`);
  const result = await run();
  log(`✔ ${name} (${(msSince(t0) / 1000).toFixed(1)} s)`);
  return result;
}

async function main(): Promise<void> {
  log(machineLine());
  let seeded: SeededData | undefined;
  const t = await step("start the topology", () =>
    startTopology(cleanup, log, async (control) => {
      seeded = await seedScaleData(control.orm, { users: USERS, recipients: RECIPIENTS, movies: 1000 });
      log(`seeded ${seeded.movies} movies, ${seeded.viewers} viewers × 20 ratings, ${RECIPIENTS} of them the broadcast's recipients`);
    }),
  );
  topology = t;
  const data = seeded!;
  figures.add("topology", "started (cluster, primary + replica, 2 APIs, 2 workers, seeded)", `${(msSince(started) / 1000).toFixed(1)} s`);
  const apis = t.apis.map(apiOf) as [Api, Api];
  const [a, b] = apis;

  await step("health and /metrics on each API process", () => healthAndMetrics(apis));

  const traveller = await step("the user journey, alternating API processes", async () => {
    const t0 = performance.now();
    const u = await newUser(a, b, "journey");
    await browseAndLike(apis, u);
    figures.add("journey", "register → login → browse → 3 likes → list → recommendations → similar → trending", `${msSince(t0)} ms`);
    const leaving = await newUser(b, a, "leaving");
    figures.add("session cache", "Logout on B refused on A after", `${await logoutSeenElsewhere(a, b, leaving)} ms`);
    return u;
  });

  const staffToken = await login(a, data.staff.username, data.staff.password);
  await step("a staff edit through API A seen through API B", async () => {
    await editSeenOnOtherApi(a, b, staffToken);
    figures.add("catalogue cache", "UpdateMovie on A, GetMovie + ListMovies on B", "edited on B's first read");
  });

  await step(`SendNotification to ${RECIPIENTS} users, each delivered once`, async () => {
    const r = await broadcastOnce(a, b, staffToken, data.genreId, data.recipientEmails, t.smtp, t.control.orm);
    figures.add("broadcast", `${r.recipients} emails: call answered / all accepted by SMTP`, `${r.queuedMs} ms / ${(r.deliveredMs / 1000).toFixed(1)} s (${Math.round(r.recipients / (r.deliveredMs / 1000))}/s)`);
  });

  await step("training, then full scoring runs with 2 workers and with 1", async () => {
    const trained = await trainModel(a, b, staffToken, 240_000);
    // The run that follows the training (2 workers) must finish before the timed ones.
    await scoringRunDone(t.control.queues.scoring, `score-all-${trained.version}`, 240_000, () => "");
    figures.add("training", "StartTraining → model published (REC_TUNE_SECONDS=0)", `${(trained.ms / 1000).toFixed(1)} s`);
    const two = await timedScoringRun(t.control.queues.scoring, trained.version, "2w", t.workers, 240_000);
    const names = Object.entries(two.rangesBy).map(([n, k]) => `${n} ${k}`).join(", ");
    check(Object.values(two.rangesBy).every((k) => k > 0), `score-all with 2 workers: ranges taken ${names} — both must take some`);
    const worker = t.workers[1];
    await worker.proc.kill("SIGTERM");
    const one = await timedScoringRun(t.control.queues.scoring, trained.version, "1w", [t.workers[0]], 240_000);
    const restarted = t.startWorker(worker.name);
    figures.add("sharded scoring", `${two.users} users in ${two.shards} ranges, 2 workers (${names})`, `${two.seconds.toFixed(2)} s`);
    figures.add("sharded scoring", `${one.users} users in ${one.shards} ranges, 1 worker`, `${one.seconds.toFixed(2)} s`);
    figures.add("sharded scoring", "speed-up with 2 workers", `×${(one.seconds / two.seconds).toFixed(2)}`);
    check(two.users === one.users, `the two runs scored ${two.users} and ${one.users} users`);
    await restarted;
  });

  await step("a Redis master killed while the journey runs", async () => {
    // The master of the scoring queue's slot: rescoring stops until its replica takes over (other keys spread over all masters).
    const r = await masterKilledMidRun(apis, traveller, t.cluster, queuePrefix(t.cluster.url, SCALE_PREFIX, "scoring"), t.workers, 90_000);
    figures.add("redis failover", `master :${r.killedPort} SIGKILLed → replica :${r.promotedPort} promoted`, `${r.promotedMs} ms`);
    figures.add("redis failover", `kill → journey answering again (${r.failedIterations} iterations failed)`, `${r.journeyMs} ms`);
    figures.add("redis failover", "kill → a worker rescoring again", `${r.rescoringMs} ms`);
    figures.add("redis failover", "acknowledged interactions, all stored", String(r.acknowledged));
  });

  await step("the replica stopped: reads fall back to the primary", async () => {
    const r = await replicaStoppedReadsGoOn(apis, t.pg, t.control.orm, traveller);
    figures.add("read replica", "sessions on the replica before it stopped", r.replicaSessions.filter((s) => s.startsWith("movierec-")).join(", "));
    for (const [name, ms] of Object.entries(r.answeredMs)) figures.add("read replica", `replica stopped → ${name}'s reads answered`, `${ms} ms`);
  });
}

main().then(
  () => finish(0),
  (e: unknown) => finish(1, e instanceof ScaleCheckFailed ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)),
);
