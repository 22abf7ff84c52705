/**
 * The offline side of `npm run eval` as one function (the CLI and the served-evaluation test share it): read the
 * ratings, weigh them as the workers do, split each user's latest 20% off as the test set, renumber the movies so the
 * training part's come first in movie id order (the served catalogue holds exactly those, in that order), tune on the
 * training part with the function every training runs (tune.ts), and refit on all of it.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { readRatings, type Ratings } from "./ratings-file.ts";
import { temporalSplit, type Interactions, type Split } from "./split.ts";
import { evalSet, type EvalSet } from "./evaluate.ts";
import { DEFAULT_TUNE_BUDGET, tuneOnTrainingData, type Tuned } from "./tune.ts";
import { DEFAULT_TRAIN, trainRecommender, type Recommender, type TrainingData } from "../modules/recommendation/algorithms/recommender.ts";
import { ratingWeight } from "../modules/recommendation/interaction-weights.ts";

export interface OfflineModel {
  ratings: Ratings;
  split: Split;
  /** Movies in the training part (items 0..items-1); test-only movies are numbered after them. */
  items: number;
  set: EvalSet;
  tuned: Tuned;
  model: Recommender;
  trainSeconds: number;
}

export function offlineModel(ratingsPath: string, opts: { maxItems: number; tuneSeconds: number }): OfflineModel {
  // Each rating weighs what the workers give it (interaction-weights.ts), so both paths learn from the same numbers.
  const file = readRatings(ratingsPath);
  const fileSplit = temporalSplit({ ...file, weight: Float32Array.from(file.rating, (r) => ratingWeight(r)) }, { minInteractions: 5, testFraction: 0.2 });
  const { ratings, split, items } = trainingItemsFirst(file, fileSplit);
  const users = ratings.userIds.length;
  const tokens = genreTokens(ratingsPath, ratings.itemIds.slice(0, items));
  const trainingData = (t: Interactions): TrainingData => {
    let now = 0;
    for (const x of t.time) now = Math.max(now, x);
    return { users, items, user: t.user, item: t.item, weight: t.weight ?? new Float32Array(t.user.length).fill(1), time: t.time, tokens, now };
  };
  const train = { ...DEFAULT_TRAIN, maxItems: opts.maxItems };
  const tuned = tuneOnTrainingData(trainingData(split.train), train, { ...DEFAULT_TUNE_BUDGET, seconds: opts.tuneSeconds });
  const t0 = performance.now();
  const model = trainRecommender(trainingData(split.train), { ...train, lambda: tuned.lambda, hybrid: tuned.params });
  const trainSeconds = (performance.now() - t0) / 1000;
  return { ratings, split, items, set: evalSet(users, items, split.train, split.test), tuned, model, trainSeconds };
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
