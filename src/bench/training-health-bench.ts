/**
 * `npm run bench:training-health -- --ratings FILE` (or DATASETS_DIR / --data-dir DIR for DIR/ml-latest-small/
 * ratings.csv): /healthz latency while the real worker trains (tuning included) and batch-scores a MovieLens file, the
 * server and the worker in one process (see health-during-training.ts), in a throw-away database. Prints probe
 * latencies (p50, p99, max) per stage — idle (a control: the same probes before the job, so the machine's load shows
 * apart from the training's effect), training, batch scoring — the event loop's stalls and the machine's load.
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { openBenchDatabase } from "./bench-database.ts";
import { healthDuringTraining } from "./health-during-training.ts";
import { loadConfig } from "../platform/config.ts";
import { createLogger } from "../platform/logger.ts";

const { values: args } = parseArgs({ options: { ratings: { type: "string" }, "data-dir": { type: "string" }, "interval-ms": { type: "string" } } });
const dataDir = args["data-dir"] || process.env.DATASETS_DIR;
const ratingsPath = args.ratings ?? (dataDir ? join(dataDir, "ml-latest-small", "ratings.csv") : undefined);
if (!ratingsPath) {
  console.error("usage: npm run bench:training-health -- --ratings <ratings.csv> | --data-dir DIR   (or DATASETS_DIR=DIR)");
  process.exit(2);
}
const db = await openBenchDatabase();
const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");
const loadBefore = load();
try {
  const config = loadConfig({ ...process.env, NODE_ENV: "development", LOG_LEVEL: "silent", DATABASE_URL: db.url, REDIS_URL: db.redisUrl, REDIS_PREFIX: `benchhealth${randomBytes(4).toString("hex")}`, HOST: "127.0.0.1", PORT: "0", DB_POOL_MAX: "8" });
  const r = await healthDuringTraining(config, createLogger({ level: "silent" }), { ratingsPath, intervalMs: Number(args["interval-ms"] ?? 20) });
  console.log(`bench:training-health — ${ratingsPath}: ${r.ratings} ratings; server and worker in one process; REC_TUNE_SECONDS ${config.recommendation.tuneSeconds}, REC_MAX_ITEMS ${config.recommendation.maxItems}`);
  console.log(`training job ${r.trainSeconds.toFixed(1)} s (phases ${r.phases.join(" → ")}), then batch scoring: ${r.totalSeconds.toFixed(1)} s in all`);
  console.log(`/healthz every ${args["interval-ms"] ?? 20} ms, ${r.failures.length} of ${r.probes} probes during the job not SERVING:`);
  console.log("stage      probes  p50 ms  p99 ms  max ms  longest loop stall ms");
  for (const [name, f] of Object.entries(r.stages)) {
    console.log(`${name.padEnd(10)} ${String(f.probes).padStart(6)}  ${f.latencyMs.p50.toFixed(1).padStart(6)}  ${f.latencyMs.p99.toFixed(1).padStart(6)}  ${f.latencyMs.max.toFixed(1).padStart(6)}  ${f.stallMaxMs.toFixed(0).padStart(6)}`);
  }
  console.log(`event loop (perf_hooks) longest delay during the job ${r.loopDelayMaxMs.toFixed(1)} ms; stalls over 100 ms by phase: ${JSON.stringify(byPhase(r.stalls))}`);
  console.log(`load average before ${loadBefore}, after ${load()} (${(await import("node:os")).cpus().length} cores)`);
  if (r.failures.length > 0) console.log(`failures: ${r.failures.slice(0, 5).join("; ")}`);
} finally {
  await db.drop();
}

function byPhase(stalls: { ms: number; phase: string }[]): Record<string, { count: number; maxMs: number }> {
  const out: Record<string, { count: number; maxMs: number }> = {};
  for (const s of stalls) {
    const o = (out[s.phase] ??= { count: 0, maxMs: 0 });
    o.count++;
    o.maxMs = Math.round(Math.max(o.maxMs, s.ms));
  }
  return out;
}
