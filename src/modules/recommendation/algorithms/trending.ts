/** Time-decayed popularity: each interaction counts its type weight halved every `halfLifeDays`. */

/** Per-item trend scores normalised to [0, 1] (the top item is 1). `ageDays[k]` is how old interaction k is. */
export function trendingScores(items: number, item: ArrayLike<number>, weight: ArrayLike<number>, ageDays: ArrayLike<number>, halfLifeDays: number): Float32Array {
  const out = new Float32Array(items);
  const decay = Math.LN2 / halfLifeDays;
  for (let k = 0; k < item.length; k++) {
    const w = weight[k];
    if (w <= 0 || ageDays[k] < 0) continue;
    out[item[k]] += w * Math.exp(-decay * ageDays[k]);
  }
  let max = 0;
  for (let j = 0; j < items; j++) if (out[j] > max) max = out[j];
  if (max > 0) for (let j = 0; j < items; j++) out[j] /= max;
  return out;
}
