/**
 * Offline evaluation: `npm run eval -- --ratings <ratings.csv|u.data> [--max-items N] [--json]`, or `--data-dir DIR`
 * (or DATASETS_DIR) for DIR/ml-latest-small/ratings.csv as `npm run datasets -- DIR` prepares it.
 * Protocol (see the issue): every rating is an implicit interaction; users with ≥ 5 interactions; per user the
 * latest 20% is the test set; all items seen in training are ranked, minus the user's training items. The hybrid's
 * parameters are tuned on a second split of the training data only (its own latest 20%), then refit on all of it.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { readRatings } from "./ratings-file.ts";
import { temporalSplit } from "./split.ts";
import { evalSet, evaluate, historyOf } from "./evaluate.ts";
import { DEFAULT_TRAIN, scoreUser, trainRecommender, type Recommender, type TrainingData } from "../modules/recommendation/algorithms/recommender.ts";
import { DEFAULT_TUNE_BUDGET, tuneOnTrainingData } from "./tune.ts";
import { ratingWeight } from "../modules/recommendation/interaction-weights.ts";
import type { Ratings } from "./ratings-file.ts";
import type { Split } from "./split.ts";
import { readMovieInfo, servedEvaluation } from "./served-eval.ts";
import { openBenchDatabase } from "../bench/bench-database.ts";
import { loadLine, machineLine } from "../bench/conditions.ts";
import { loadConfig } from "../platform/config.ts";
import { createLogger } from "../platform/logger.ts";
import { createRedis } from "../platform/redis.ts";
import { randomBytes } from "node:crypto";
import type { Interactions } from "./split.ts";

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
// Each rating weighs what the workers give it (interaction-weights.ts), so both paths learn from the same numbers.
const file = readRatings(ratingsPath);
const fileSplit = temporalSplit({ ...file, weight: Float32Array.from(file.rating, (r) => ratingWeight(r)) }, { minInteractions: 5, testFraction: 0.2 });
// The served catalogue holds only the training part's movies: renumber them first (movie id order kept), so the
// offline model has the same items (and content statistics over the same movies) as the served one.
const { ratings, split, items } = trainingItemsFirst(file, fileSplit);
const users = ratings.userIds.length;
const tokens = genreTokens(ratingsPath, ratings.itemIds.slice(0, items));
const maxItems = Number(args["max-items"] ?? DEFAULT_TRAIN.maxItems);
// Generous by default: a search cut by the clock on a loaded machine would not be the same search on both paths.
const tuneSeconds = Number(args["tune-seconds"] ?? 1200);

const trainingData = (t: Interactions): TrainingData => {
  let now = 0;
  for (const x of t.time) now = Math.max(now, x);
  return { users, items, user: t.user, item: t.item, weight: t.weight ?? new Float32Array(t.user.length).fill(1), time: t.time, tokens, now };
};

// 1. Tune on the training split alone, as every training run does (tune.ts: its own latest 20% validates).
const train = { ...DEFAULT_TRAIN, maxItems };
const tuned = tuneOnTrainingData(trainingData(split.train), train, { ...DEFAULT_TUNE_BUDGET, seconds: tuneSeconds });
console.error(`tuned on the training split: ${JSON.stringify({ ...tuned.params, lambda: tuned.lambda })} (validation NDCG@10 ${tuned.validation.ndcg.toFixed(4)}, ${tuned.validation.candidates} candidates in ${tuned.validation.seconds.toFixed(1)} s${tuned.validation.truncated ? ", cut by the budget" : ""})`);

// 2. Refit on the whole training split and evaluate once on the test split.
const t0 = performance.now();
const model = trainRecommender(trainingData(split.train), { ...train, lambda: tuned.lambda, hybrid: tuned.params });
const trainSeconds = (performance.now() - t0) / 1000;
const set = evalSet(users, items, split.train, split.test);

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
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== "0");
    redis.disconnect();
    await db.drop();
  }
}

/**
 * Renumbers items so that the training part's movies come first (0..items-1, in movie id order) and movies seen only
 * in the test part after them (never candidates, still counted as relevant). The split is kept as made, not redone.
 */
function trainingItemsFirst(r: Ratings, s: Split): { ratings: Ratings; split: Split; items: number } {
  const inTraining = new Uint8Array(r.itemIds.length);
  for (const i of s.train.item) inTraining[i] = 1;
  const order = [...r.itemIds.keys()].sort((a, b) => inTraining[b] - inTraining[a] || a - b);
  const renumber = new Int32Array(r.itemIds.length);
  order.forEach((old, k) => (renumber[old] = k));
  const map = (x: Int32Array) => Int32Array.from(x, (i) => renumber[i]);
  return {
    ratings: { ...r, item: map(r.item), itemIds: order.map((old) => r.itemIds[old]) },
    split: { train: { ...s.train, item: map(s.train.item) }, test: { ...s.test, item: map(s.test.item) } },
    items: inTraining.reduce((n, x) => n + x, 0),
  };
}

/** Genre tokens from a MovieLens movies.csv next to the ratings file, when there is one. */
function genreTokens(ratingsPath: string, itemIds: readonly string[]): string[][] | undefined {
  const path = join(dirname(ratingsPath), "movies.csv");
  if (!existsSync(path)) return undefined;
  const byId = new Map<string, string[]>();
  for (const line of readFileSync(path, "utf8").split(/\r?\n/).slice(1)) {
    const m = /^(\d+),(.*),([^,]*)$/.exec(line);
    if (m) byId.set(m[1], m[3] === "(no genres listed)" ? [] : m[3].split("|").map((g) => `g:${g}`));
  }
  return itemIds.map((id) => byId.get(id) ?? []);
}
