/** Scores every test user with a ranking function and accumulates the protocol's metrics. */
import { csrFromCoo, type Csr } from "../modules/recommendation/algorithms/csr.ts";
import { topK } from "../modules/recommendation/algorithms/top-k.ts";
import type { UserHistory } from "../modules/recommendation/algorithms/recommender.ts";
import { MetricsAccumulator, type RankingMetrics } from "./metrics.ts";
import type { Interactions } from "./split.ts";

export interface EvalSet {
  readonly items: number;
  /** Training interactions as users × items (their signed weights, 1 when the split carries none). */
  readonly train: Csr;
  /** Each training entry's time in unix seconds (float64, aligned with `train.indices`), as the workers read them. */
  readonly times: Float64Array;
  /** Items present in training (the candidates). */
  readonly candidates: Uint8Array;
  readonly catalogue: number;
  readonly test: ReadonlyMap<number, ReadonlySet<number>>;
}

/** Builds the evaluation view of a split. */
export function evalSet(users: number, items: number, train: Interactions, test: Interactions): EvalSet {
  const x = csrFromCoo(users, items, train.user, train.item, train.weight ?? new Float32Array(train.user.length).fill(1));
  // Seconds in float64 (float32 days would round to ~3 minutes and turn distinct times into ties).
  const times = new Float64Array(x.indices.length);
  for (let k = 0; k < train.user.length; k++) {
    let lo = x.indptr[train.user[k]];
    let hi = x.indptr[train.user[k] + 1] - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (x.indices[mid] < train.item[k]) lo = mid + 1;
      else hi = mid;
    }
    times[lo] = Math.max(times[lo], train.time[k]);
  }
  const candidates = new Uint8Array(items);
  let catalogue = 0;
  for (const j of x.indices) if (candidates[j] === 0) {
    candidates[j] = 1;
    catalogue++;
  }
  const byUser = new Map<number, Set<number>>();
  for (let k = 0; k < test.user.length; k++) {
    let s = byUser.get(test.user[k]);
    if (!s) byUser.set(test.user[k], (s = new Set()));
    s.add(test.item[k]);
  }
  return { items, train: x, times, candidates, catalogue, test: byUser };
}

/** A user's training history in the shape the recommender takes. */
/** The same set restricted to an evenly spaced sample of its test users (deterministic). */
export function sampleUsers(set: EvalSet, maxUsers: number): EvalSet {
  if (set.test.size <= maxUsers) return set;
  const users = [...set.test.keys()].sort((a, b) => a - b);
  const step = users.length / maxUsers;
  const test = new Map<number, ReadonlySet<number>>();
  for (let k = 0; k < maxUsers; k++) {
    const u = users[Math.floor(k * step)];
    test.set(u, set.test.get(u)!);
  }
  return { ...set, test };
}

export function historyOf(set: EvalSet, u: number): UserHistory {
  const a = set.train.indptr[u];
  const b = set.train.indptr[u + 1];
  return { items: set.train.indices.subarray(a, b), values: set.train.data.subarray(a, b), times: set.times.subarray(a, b) };
}

/** Runs `score` for every test user, ranking all candidates except the user's training items. */
export function evaluate(set: EvalSet, score: (u: number, exclude: Uint8Array) => Float32Array, k = 10): RankingMetrics & { seconds: number } {
  const started = performance.now();
  const acc = new MetricsAccumulator(k, set.catalogue);
  const exclude = new Uint8Array(set.items);
  for (const [u, relevant] of set.test) {
    for (let j = 0; j < set.items; j++) exclude[j] = set.candidates[j] ? 0 : 1;
    for (let p = set.train.indptr[u]; p < set.train.indptr[u + 1]; p++) exclude[set.train.indices[p]] = 1;
    // As the batch scorer ranks (nothing at or below 0 is served).
    const ranked = topK(score(u, exclude), k, { exclude, floor: 0 });
    acc.add(ranked.indices, relevant);
  }
  return { ...acc.result(), seconds: (performance.now() - started) / 1000 };
}
