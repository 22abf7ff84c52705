/**
 * The hybrid: a weighted sum of each algorithm's scores, each first scaled so its best candidate is 1, over a
 * user history whose items count less the further back they are (the most recent interactions predict the next
 * ones best: on the MovieLens temporal split this alone lifts EASE's NDCG@10 by about 10%).
 */

/** Tuned on the training split of the offline evaluation (see src/eval). */
export interface HybridParams {
  /** Recency: weight = floor + (1 − floor)·exp(−rank/tau), rank 0 = the newest interaction; tau 0 turns it off. */
  tau: number;
  floor: number;
  /** Blend weights of the per-algorithm scores (each scaled to max 1). */
  ease: number;
  knn: number;
  content: number;
  trending: number;
}

/**
 * Where every training's tuning starts (src/eval/tune.ts), and what a model trained with REC_TUNE_SECONDS=0 serves:
 * the blend an earlier tuning chose on the training split of MovieLens small (validation NDCG@10 0.160; test 0.1565
 * vs EASE 0.129). Trending still serves cold start, and kNN still powers GetSimilarMovies.
 */
export const DEFAULT_HYBRID: HybridParams = { tau: 5, floor: 0.05, ease: 1, knn: 0, content: 0.2, trending: 0 };

/**
 * Multiplies `values` by the recency weight of each entry's rank among `times` (newest first). Ties in time go by
 * `items` (the higher item index counts as newer) when given, so the weights do not depend on the order the history
 * was read in (the workers read it from SQL, the evaluation from a matrix: the same weights either way).
 */
export function recencyWeights(times: ArrayLike<number>, values: ArrayLike<number>, tau: number, floor: number, items?: ArrayLike<number>): Float32Array {
  const n = times.length;
  const order = Array.from({ length: n }, (_, h) => h).sort((a, b) => times[b] - times[a] || (items ? items[b] - items[a] : 0) || b - a);
  const out = new Float32Array(n);
  for (let rank = 0; rank < n; rank++) {
    const h = order[rank];
    out[h] = values[h] * (Number.isFinite(tau) && tau > 0 ? floor + (1 - floor) * Math.exp(-rank / tau) : 1);
  }
  return out;
}

/** Scales `scores` so that the largest value over non-excluded entries is 1 (negatives stay negative). */
export function scaleToMax(scores: Float32Array, exclude?: Uint8Array): Float32Array {
  let max = 0;
  for (let j = 0; j < scores.length; j++) if ((exclude === undefined || exclude[j] === 0) && scores[j] > max) max = scores[j];
  if (max > 0) for (let j = 0; j < scores.length; j++) scores[j] /= max;
  return scores;
}

/** out += w · part (same length). */
export function addScaled(out: Float32Array, part: Float32Array, w: number): void {
  if (w === 0) return;
  for (let j = 0; j < out.length; j++) out[j] += w * part[j];
}
