/**
 * Offline evaluation: `npm run eval -- --ratings <ratings.csv|u.data> [--max-items N] [--json]`, or `--data-dir DIR`
 * (or DATASETS_DIR) for DIR/ml-latest-small/ratings.csv as `npm run datasets -- DIR` prepares it.
 * Protocol (see the issue): every rating is an interaction (weighted as the workers weigh it); users with ≥ 5
 * interactions; per user the latest 20% is the test set; all items seen in training are ranked, minus the user's
 * training items. The hybrid's parameters are tuned on a second split of the training data only (its own latest 20%),
 * by the function every training runs, then refit on all of it (offline-model.ts). `--tune-seconds` bounds the tuning
 * of both paths (REC_TUNE_SECONDS for the served one).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { evaluate, historyOf } from "./evaluate.ts";
import { offlineModel } from "./offline-model.ts";
import { DEFAULT_TRAIN, scoreUser, type Recommender } from "../modules/recommendation/algorithms/recommender.ts";
import { readMovieInfo, servedEvaluation } from "./served-eval.ts";
import { openBenchDatabase } from "../bench/bench-database.ts";
import { loadLine, machineLine } from "../bench/conditions.ts";
import { loadConfig } from "../platform/config.ts";
import { createLogger } from "../platform/logger.ts";
import { createRedis, unlinkKeysUnder } from "../platform/redis.ts";
import { randomBytes } from "node:crypto";

const { values: args } = parseArgs({
  options: { ratings: { type: "string" }, "data-dir": { type: "string" }, "max-items": { type: "string" }, json: { type: "boolean" }, served: { type: "boolean" }, "tune-seconds": { type: "string" } },
});
// A tool script, like the benches: the dataset folder may come from the environment (never a built-in path).
const dataDir = args["data-dir"] || process.env.DATASETS_DIR;
const ratingsPath = args.ratings ?? (dataDir ? join(dataDir, "ml-latest-small", "ratings.csv") : undefined);
if (!ratingsPath) {
  console.error("usage: npm run eval -- --ratings <ratings.csv|u.data> | --data-dir DIR [--max-items N] [--json] [--served]   (or DATASETS_DIR=DIR)");
  process.exit(2);
}
const maxItems = Number(args["max-items"] ?? DEFAULT_TRAIN.maxItems);
// Generous by default: a search cut by the clock on a loaded machine would not be the same search on both paths.
const tuneSeconds = Number(args["tune-seconds"] ?? 1200);
// 1. Tune on the training split alone, as every training run does (tune.ts: its own latest 20% validates), then
// 2. refit on the whole training split (offline-model.ts) and evaluate once on the test split.
const { ratings, split, items, set, tuned, model, trainSeconds } = offlineModel(ratingsPath, { maxItems, tuneSeconds });
console.error(`tuned on the training split: ${JSON.stringify({ ...tuned.params, lambda: tuned.lambda })} (validation NDCG@10 ${tuned.validation.ndcg.toFixed(4)}, ${tuned.validation.candidates} candidates in ${tuned.validation.seconds.toFixed(1)} s${tuned.validation.truncated ? ", cut by the budget" : ""})`);

const rows: Record<string, ReturnType<typeof evaluate>> = {};
rows.MostPop = evaluate(set, () => model.popularity.slice());
let seed = 42;
rows.Random = evaluate(set, () => Float32Array.from({ length: items }, () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)));
const plain = (m: Recommender) => ({ ...m.params, tau: 0, knn: 0 });
rows["EASE (no recency)"] = evaluate(set, (u, ex) => scoreUser(model, historyOf(set, u), "collaborative", ex, plain(model)));
for (const algorithm of ["collaborative", "content_based", "trending", "hybrid"] as const) {
  rows[algorithm] = evaluate(set, (u, ex) => scoreUser(model, historyOf(set, u), algorithm, ex));
}

// 3. With --served: the same split through the workers and the server (see served-eval.ts).
const served = args.served ? await runServed() : undefined;

const figures = { users: set.test.size, catalogue: set.catalogue, trainInteractions: split.train.user.length, testInteractions: split.test.user.length, trainSeconds, maxItems, params: tuned.params, lambda: tuned.lambda, validation: tuned.validation, rows, served };
if (args.json) {
  console.log(JSON.stringify(figures, null, 2));
} else {
  console.log(machineLine());
  console.log(`${ratingsPath}: ${figures.users} users, ${figures.catalogue} items in training, ${figures.trainInteractions} train / ${figures.testInteractions} test interactions`);
  console.log(`training ${trainSeconds.toFixed(1)} s (EASE on the ${maxItems} most popular items, item-kNN, content, trending)`);
  console.log("model              NDCG@10  Recall@10  HR@10   Coverage@10  scoring s");
  for (const [name, r] of Object.entries(rows)) {
    console.log(`${name.padEnd(18)} ${r.ndcg.toFixed(4)}   ${r.recall.toFixed(4)}     ${r.hitRate.toFixed(4)}  ${r.coverage.toFixed(4)}       ${r.seconds.toFixed(2)}`);
  }
  if (served) {
    const r = served.hybrid;
    console.log(`${"served hybrid".padEnd(18)} ${r.ndcg.toFixed(4)}   ${r.recall.toFixed(4)}     ${r.hitRate.toFixed(4)}  ${r.coverage.toFixed(4)}       ${served.seconds.serve.toFixed(2)}`);
    const gap = (r.ndcg / rows.hybrid.ndcg - 1) * 100;
    console.log(`served vs offline hybrid NDCG@10: ${gap >= 0 ? "+" : ""}${gap.toFixed(1)}% · load ${served.seconds.load.toFixed(1)} s, train job ${served.seconds.train.toFixed(1)} s, score-all ${served.seconds.score.toFixed(1)} s, GetRecommendations ${served.seconds.serve.toFixed(1)} s`);
    console.log(`served model: ${JSON.stringify(served.modelMeta)}`);
  }
  console.log(`at the end: ${loadLine()}`);
  console.log("reference (issue): MostPop 0.088 · item-kNN 0.105 · PureSVD-50 0.114 · EASE λ=500 0.132 (Recall 0.134, coverage 0.063)");
}

/** A scratch database (created, migrated, dropped), the real worker and server on it. */
async function runServed() {
  const db = await openBenchDatabase();
  const prefix = `evalserved${randomBytes(4).toString("hex")}`;
  const config = loadConfig({ ...process.env, NODE_ENV: "development", LOG_LEVEL: "silent", DATABASE_URL: db.url, REDIS_URL: db.redisUrl, REDIS_PREFIX: prefix, HOST: "127.0.0.1", PORT: "0", DB_POOL_MAX: "8", REC_MAX_ITEMS: String(maxItems), REC_TUNE_SECONDS: String(tuneSeconds) });
  const log = createLogger({ level: process.env.EVAL_LOG_LEVEL === "debug" ? "info" : "silent" });
  try {
    return await servedEvaluation(config, log, { ratings, split, set, movies: readMovieInfo(ratingsPath!) });
  } finally {
    const redis = createRedis(db.redisUrl);
    if (redis.status !== "ready") await new Promise((r) => redis.once("ready", r));
    await unlinkKeysUnder(redis, prefix);
    redis.disconnect();
    await db.drop();
  }
}
