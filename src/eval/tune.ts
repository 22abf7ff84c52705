/**
 * The tuning step of every training (and of `npm run eval`, which calls the same function on its training split, so
 * offline and served models get their parameters the same way): the data being trained on is split in time (each
 * user's latest 20% held out, ties by timestamp then movie id), a model is fitted on the rest, and the hybrid's
 * parameters (recency tau and floor, blend weights of kNN, content and trending, then EASE's λ) are chosen by
 * validation NDCG@10 with coordinate ascent, within a time budget. What a pass costs is the fold-in of every validation
 * user: one pass per recency setting scores every blend of the grid on the same per-user parts, so the blend grid
 * costs little more than one setting.
 */
import { hybridInto, scoreParts, trainRecommender, type Recommender, type TrainingData, type TrainOptions } from "../modules/recommendation/algorithms/recommender.ts";
import type { HybridParams } from "../modules/recommendation/algorithms/hybrid.ts";
import { topK } from "../modules/recommendation/algorithms/top-k.ts";
import { evalSet, historyOf, sampleUsers, type EvalSet } from "./evaluate.ts";
import { MetricsAccumulator, type RankingMetrics } from "./metrics.ts";
import type { Interactions } from "./split.ts";

const TAU = [0, 2, 5, 10, 20, 40];
const FLOOR = [0, 0.02, 0.05, 0.1, 0.2];
const KNN = [0, 0.1, 0.3, 0.6, 1];
const CONTENT = [0, 0.05, 0.1, 0.2, 0.4];
const TRENDING = [0, 0.02, 0.05, 0.1, 0.2];
/** λ tried around the configured one, each a refit of the validation model (EASE's cost), while the budget allows. */
const LAMBDA_FACTORS = [0.5, 2];

export interface TuneBudget {
  /** Wall-clock seconds for the search (the validation model's fit comes on top); 0 keeps the given parameters. */
  seconds: number;
  /** Validation users scored per candidate at most (an evenly spaced, deterministic sample beyond). */
  maxUsers: number;
}

export const DEFAULT_TUNE_BUDGET: TuneBudget = { seconds: 60, maxUsers: 2000 };

/** What the tuning chose and how the chosen parameters scored on the validation split. */
export interface Tuned {
  params: HybridParams;
  lambda: number;
  validation: {
    ndcg: number;
    recall: number;
    hitRate: number;
    coverage: number;
    /** Validation users scored, their held-out and training interactions. */
    users: number;
    heldOut: number;
    trainInteractions: number;
    /** Parameter settings scored, and whether the search ended before trying them all (budget). */
    candidates: number;
    truncated: boolean;
    seconds: number;
  };
}

/** The validation split of training data: latest 20% per user (≥ 5 interactions) held out; held-out negatives dropped. */
export function validationSplit(data: TrainingData, testFraction = 0.2, minInteractions = 5): { train: Interactions & { weight: Float32Array }; test: Interactions } {
  // Users in index order and each one's entries in time order: the output does not depend on the order the data was
  // read in (SQL rows or a file), so the validation model and every sum over the split come out the same either way.
  const byUser: number[][] = Array.from({ length: data.users }, () => []);
  for (let k = 0; k < data.user.length; k++) if (data.weight[k] !== 0) byUser[data.user[k]].push(k);
  const train: number[] = [];
  const test: number[] = [];
  for (const list of byUser) {
    list.sort((a, b) => data.time[a] - data.time[b] || data.item[a] - data.item[b] || a - b);
    // Users with too little history stay in training (they still teach the collaborative models).
    if (list.length < minInteractions) {
      train.push(...list);
      continue;
    }
    const cut = list.length - Math.max(1, Math.round(list.length * testFraction));
    for (let j = 0; j < list.length; j++) {
      if (j < cut) train.push(list[j]);
      else if (data.weight[list[j]] > 0) test.push(list[j]);
    }
  }
  const pick = (rows: number[]) => ({
    user: Int32Array.from(rows, (k) => data.user[k]),
    item: Int32Array.from(rows, (k) => data.item[k]),
    time: Float64Array.from(rows, (k) => data.time[k]),
    weight: Float32Array.from(rows, (k) => data.weight[k]),
  });
  return { train: pick(train), test: pick(test) };
}

/** Tunes the hybrid on a temporal split of `data`, starting from `opts.hybrid` and `opts.lambda`. */
export function tuneOnTrainingData(data: TrainingData, opts: TrainOptions, budget: TuneBudget = DEFAULT_TUNE_BUDGET): Tuned {
  const started = performance.now();
  const split = validationSplit(data);
  let now = 0;
  for (const t of split.train.time) now = Math.max(now, t);
  const inner: TrainingData = { ...data, user: split.train.user, item: split.train.item, weight: split.train.weight, time: split.train.time, now: Math.min(now, data.now) };
  const fitStarted = performance.now();
  let model = trainRecommender(inner, opts);
  const fitSeconds = (performance.now() - fitStarted) / 1000;
  const set = sampleUsers(evalSet(data.users, data.items, split.train, split.test), budget.maxUsers);
  // The search's deadline starts after the validation model's fit, which always completes.
  const deadline = performance.now() + budget.seconds * 1000;
  // The starting point, scored exactly: what is served when nothing better is found in time.
  const start = { ...opts.hybrid };
  const startMetrics = evaluateBlends(model, set, start, [start], Infinity)![0];
  let best = { params: start, lambda: opts.lambda, ndcg: startMetrics.ndcg };
  let candidates = 1;
  let truncated = budget.seconds <= 0;
  const tryModel = (m: Recommender, lambda: number, from: HybridParams, recency: boolean): boolean => {
    const r = searchParams(m, set, from, deadline, recency);
    candidates += r.candidates;
    truncated ||= r.truncated;
    if (r.ndcg > best.ndcg) {
      best = { params: r.params, lambda, ndcg: r.ndcg };
      model = m;
    }
    return !r.truncated;
  };
  if (!truncated && tryModel(model, opts.lambda, start, true)) {
    // λ around the configured one: each a refit of the validation model (with the blend grid at the recency found),
    // tried while the budget allows.
    for (const f of LAMBDA_FACTORS) {
      if (performance.now() + fitSeconds * 1000 * 2 > deadline) {
        truncated = true;
        break;
      }
      if (!tryModel(trainRecommender(inner, { ...opts, lambda: opts.lambda * f }), opts.lambda * f, best.params, false)) break;
    }
  }
  // The search ranks candidates from pools (see searchParams); the figures reported are exact, and a choice that is
  // not exactly better than the start is not taken.
  let metrics = startMetrics;
  if (best.params !== start || best.lambda !== opts.lambda) {
    const exact = evaluateBlends(model, set, best.params, [best.params], Infinity)![0];
    if (exact.ndcg > startMetrics.ndcg) metrics = exact;
    else best = { params: start, lambda: opts.lambda, ndcg: startMetrics.ndcg };
  }
  return {
    params: best.params,
    lambda: best.lambda,
    validation: {
      ndcg: metrics.ndcg,
      recall: metrics.recall,
      hitRate: metrics.hitRate,
      coverage: metrics.coverage,
      users: set.test.size,
      heldOut: [...set.test.values()].reduce((n, x) => n + x.size, 0),
      trainInteractions: split.train.user.length,
      candidates,
      truncated,
      seconds: (performance.now() - started) / 1000,
    },
  };
}

/**
 * Coordinate ascent by validation NDCG@10 from `start`: tau, then floor (unless `recency` is false), each setting with
 * the whole blend grid (kNN × content × trending weights). A recency setting costs one fold-in of every validation user; the blends are then
 * ranked within each user's pool (see `pools`), which makes the grid cheap.
 */
export function searchParams(model: Recommender, set: EvalSet, start: HybridParams, deadline: number, recency = true): { params: HybridParams; ndcg: number; candidates: number; truncated: boolean } {
  let best = { params: { ...start }, ndcg: -1 };
  let candidates = 0;
  const blendsOf = (recency: HybridParams) => {
    const out: HybridParams[] = [];
    for (const knn of KNN) for (const content of CONTENT) for (const trending of TRENDING) out.push({ ...recency, knn, content, trending });
    return out;
  };
  const consider = (recency: HybridParams): boolean => {
    const p = pools(model, set, recency, deadline);
    if (!p) return false;
    const blends = blendsOf(recency);
    candidates += blends.length;
    for (const b of blends) {
      const ndcg = poolNdcg(p, b, set.catalogue);
      if (ndcg > best.ndcg) best = { params: b, ndcg };
    }
    return true;
  };
  if (!consider(best.params)) return { ...best, candidates, truncated: true };
  if (!recency) return { ...best, candidates, truncated: false };
  for (const tau of TAU) {
    if (tau === best.params.tau) continue;
    if (!consider({ ...best.params, tau })) return { ...best, candidates, truncated: true };
  }
  if (best.params.tau > 0) {
    for (const floor of FLOOR) {
      if (floor === best.params.floor) continue;
      if (!consider({ ...best.params, floor })) return { ...best, candidates, truncated: true };
    }
  }
  return { ...best, candidates, truncated: false };
}

/** Items considered per part and user: the top of each part (the blends' top 10 come from their union). */
const POOL = 100;

interface Pool {
  relevant: ReadonlySet<number>;
  items: Int32Array;
  /** Per pool item: EASE, kNN, content and trending parts (row-major, 4 per item). */
  parts: Float32Array;
}

/** One fold-in per validation user at `recency`'s tau and floor, kept as the union of each part's top POOL items. */
function pools(model: Recommender, set: EvalSet, recency: HybridParams, deadline: number): Pool[] | null {
  const out: Pool[] = [];
  const exclude = new Uint8Array(set.items);
  let n = 0;
  for (const [u, relevant] of set.test) {
    if ((++n & 15) === 0 && performance.now() > deadline) return null;
    for (let j = 0; j < set.items; j++) exclude[j] = set.candidates[j] ? 0 : 1;
    for (let p = set.train.indptr[u]; p < set.train.indptr[u + 1]; p++) exclude[set.train.indices[p]] = 1;
    const parts = scoreParts(model, historyOf(set, u), exclude, recency);
    const arrays = [parts.ease, parts.knn, parts.content, parts.trending];
    const union = new Set<number>();
    for (const a of arrays) if (a) for (const j of topK(a, POOL, { exclude }).indices) union.add(j);
    const items = Int32Array.from(union);
    const values = new Float32Array(items.length * 4);
    items.forEach((j, k) => arrays.forEach((a, c) => (values[k * 4 + c] = a ? a[j] : 0)));
    out.push({ relevant, items, parts: values });
  }
  return out;
}

/** NDCG@10 of a blend ranked within the pools (the hybrid's sum, as hybridInto computes it; nothing ≤ 0 served). */
function poolNdcg(pools: readonly Pool[], b: HybridParams, catalogue: number): number {
  const acc = new MetricsAccumulator(10, catalogue);
  let scores = new Float32Array(0);
  for (const p of pools) {
    if (scores.length < p.items.length) scores = new Float32Array(p.items.length);
    const s = scores.subarray(0, p.items.length);
    for (let k = 0; k < p.items.length; k++) {
      s[k] = p.parts[k * 4] + b.knn * p.parts[k * 4 + 1] + b.content * p.parts[k * 4 + 2] + b.trending * p.parts[k * 4 + 3];
    }
    const top = topK(s, 10, { floor: 0 });
    acc.add(Array.from(top.indices, (k) => p.items[k]), p.relevant);
  }
  return acc.result().ndcg;
}

/**
 * Scores every validation user once with `recency`'s tau and floor, and ranks each of `blends` from the same parts
 * (the workers' scoreParts and hybridInto, so these are the served lists). Null when the deadline passes midway.
 */
export function evaluateBlends(model: Recommender, set: EvalSet, recency: HybridParams, blends: readonly HybridParams[], deadline: number): RankingMetrics[] | null {
  const acc = blends.map(() => new MetricsAccumulator(10, set.catalogue));
  const exclude = new Uint8Array(set.items);
  const out = new Float32Array(model.items);
  let n = 0;
  for (const [u, relevant] of set.test) {
    if ((++n & 31) === 0 && performance.now() > deadline) return null;
    for (let j = 0; j < set.items; j++) exclude[j] = set.candidates[j] ? 0 : 1;
    for (let p = set.train.indptr[u]; p < set.train.indptr[u + 1]; p++) exclude[set.train.indices[p]] = 1;
    const parts = scoreParts(model, historyOf(set, u), exclude, recency);
    // topK as the batch scorer calls it (nothing at or below 0 is served).
    blends.forEach((b, k) => acc[k].add(topK(hybridInto(out, parts, b), 10, { exclude, floor: 0 }).indices, relevant));
  }
  return acc.map((a) => a.result());
}
