/**
 * Time-decayed popularity: each interaction counts its weight halved every `halfLifeDays` of age, age measured from
 * the latest interaction in the data (not the wall clock), so data whose last event is a year old still trends.
 * Sums are kept as logarithms (log-sum-exp per item), so no term underflows however old it is.
 */

/** Lowest log-ratio to the top item kept as a distinct score: e^-80 ≈ 2e-35 still fits a float32 (min normal 1e-38). */
const MIN_LOG_RATIO = -80;

/**
 * Per-item trend scores in (0, 1] for items with positive weight (the top item is 1), 0 for the rest.
 * `time[k]` is when interaction k happened (unix seconds); `anchor` caps the reference time (defaults to the latest).
 */
export function trendingScores(items: number, item: ArrayLike<number>, weight: ArrayLike<number>, time: ArrayLike<number>, halfLifeDays: number, anchor = Infinity): Float32Array {
  let latest = -Infinity;
  for (let k = 0; k < item.length; k++) if (weight[k] > 0 && time[k] > latest) latest = time[k];
  const ref = Math.min(latest, anchor);
  const decayPerSecond = Math.LN2 / (halfLifeDays * 86_400);
  // log of each term = log(w) − decay·age; per item the running log-sum-exp (max + log of the scaled sum).
  const maxLog = new Float64Array(items).fill(-Infinity);
  for (let k = 0; k < item.length; k++) {
    const w = weight[k];
    if (!(w > 0)) continue;
    const l = Math.log(w) - decayPerSecond * Math.max(0, ref - time[k]);
    if (l > maxLog[item[k]]) maxLog[item[k]] = l;
  }
  const sum = new Float64Array(items);
  for (let k = 0; k < item.length; k++) {
    const w = weight[k];
    if (!(w > 0)) continue;
    const j = item[k];
    sum[j] += Math.exp(Math.log(w) - decayPerSecond * Math.max(0, ref - time[k]) - maxLog[j]);
  }
  let top = -Infinity;
  const logScore = new Float64Array(items);
  for (let j = 0; j < items; j++) {
    logScore[j] = maxLog[j] === -Infinity ? -Infinity : maxLog[j] + Math.log(sum[j]);
    if (logScore[j] > top) top = logScore[j];
  }
  const out = new Float32Array(items);
  if (top === -Infinity) return out;
  for (let j = 0; j < items; j++) {
    if (logScore[j] === -Infinity) continue;
    out[j] = Math.exp(Math.max(MIN_LOG_RATIO, logScore[j] - top));
  }
  return out;
}
