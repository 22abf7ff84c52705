/**
 * The offline evaluation run inside the training job (StartTraining with `evaluate`, and the nightly schedule): the
 * same protocol as `npm run eval` on the data being trained — positive interactions only, users with ≥ 5, each
 * user's latest 20% held out — with the model refit on the earlier 80%. At the design's volume it scores a
 * deterministic sample of test users, so an evaluated training costs a bounded amount more than a plain one.
 */
import { ALGORITHMS, DEFAULT_TRAIN, scoreAllAlgorithms, trainRecommender, type TrainingData, type TrainOptions } from "../modules/recommendation/algorithms/recommender.ts";
import { topK } from "../modules/recommendation/algorithms/top-k.ts";
import { evalSet, historyOf, sampleUsers, type EvalSet } from "./evaluate.ts";
import { MetricsAccumulator, type RankingMetrics } from "./metrics.ts";
import { temporalSplit } from "./split.ts";

export interface TrainingEvaluation {
  /** Flat figures for GetModelStatus, e.g. `hybrid.ndcg@10`, `mostpop.recall@10`, `users`, `seconds`. */
  figures: Record<string, number>;
  evaluatedAt: string;
}

/** Splits `data` in time, refits on the earlier part and scores the held-out part (at most `maxUsers` users). */
export function evaluateTrainingData(data: TrainingData, opts: Partial<TrainOptions> = {}, maxUsers = 2000): TrainingEvaluation {
  const started = performance.now();
  const keep: number[] = [];
  for (let k = 0; k < data.weight.length; k++) if (data.weight[k] > 0) keep.push(k);
  const positive = { user: Int32Array.from(keep, (k) => data.user[k]), item: Int32Array.from(keep, (k) => data.item[k]), time: Float64Array.from(keep, (k) => data.time[k]) };
  const split = temporalSplit(positive, { minInteractions: 5, testFraction: 0.2 });
  // "Now" for trending is the last training interaction, as if the model had been trained then.
  let now = 0;
  for (const t of split.train.time) now = Math.max(now, t);
  const model = trainRecommender(
    { users: data.users, items: data.items, user: split.train.user, item: split.train.item, weight: new Float32Array(split.train.user.length).fill(1), time: split.train.time, tokens: data.tokens, now },
    { ...DEFAULT_TRAIN, ...opts },
  );
  const full = evalSet(data.users, data.items, split.train, split.test);
  const set = sampleUsers(full, maxUsers);
  const figures: Record<string, number> = { users: set.test.size, train_interactions: split.train.user.length, test_interactions: split.test.user.length };
  const put = (name: string, r: RankingMetrics) => {
    figures[`${name}.ndcg@10`] = r.ndcg;
    figures[`${name}.recall@10`] = r.recall;
    figures[`${name}.hr@10`] = r.hitRate;
    figures[`${name}.coverage@10`] = r.coverage;
  };
  // One pass: each test user is scored once by every algorithm, and each list feeds its own accumulator.
  const names = ["mostpop", ...ALGORITHMS] as const;
  const acc = new Map(names.map((n) => [n, new MetricsAccumulator(10, set.catalogue)]));
  const exclude = new Uint8Array(set.items);
  for (const [u, relevant] of set.test) {
    for (let j = 0; j < set.items; j++) exclude[j] = set.candidates[j] ? 0 : 1;
    for (let p = set.train.indptr[u]; p < set.train.indptr[u + 1]; p++) exclude[set.train.indices[p]] = 1;
    const scores = { mostpop: model.popularity, ...scoreAllAlgorithms(model, historyOf(set, u), exclude) };
    for (const n of names) acc.get(n)!.add(topK(scores[n], 10, { exclude }).indices, relevant);
  }
  for (const n of names) put(n, acc.get(n)!.result());
  figures.seconds = (performance.now() - started) / 1000;
  return { figures, evaluatedAt: new Date().toISOString() };
}
