/**
 * A sparse log-scale latency histogram: bucket i holds latencies up to 0.01 ms × 1.05^i, so any percentile read
 * from it is within 5% of the true value, whatever the range (10 µs to hours). Histograms of several intervals
 * merge by adding counts, which is how per-interval rows of `performance_metrics` become a window's percentiles.
 */

const BASE_MS = 0.01;
const GROWTH = 1.05;
const LOG_GROWTH = Math.log(GROWTH);

/** Bucket index → count. */
export type Histogram = Map<number, number>;

/** The bucket a latency falls in. */
export function bucketOf(ms: number): number {
  if (!(ms > BASE_MS)) return 0;
  return Math.ceil(Math.log(ms / BASE_MS) / LOG_GROWTH - 1e-9);
}

/** The upper bound (ms) of a bucket: what a percentile falling in it reports. */
export function bucketUpperMs(index: number): number {
  return BASE_MS * GROWTH ** index;
}

export function observe(h: Histogram, ms: number, count = 1): void {
  const b = bucketOf(ms);
  h.set(b, (h.get(b) ?? 0) + count);
}

/** Adds `from` into `into`. */
export function merge(into: Histogram, from: Histogram | Readonly<Record<string, number>>): void {
  const entries = from instanceof Map ? from.entries() : Object.entries(from).map(([k, v]) => [Number(k), v] as const);
  for (const [b, n] of entries) into.set(b, (into.get(b) ?? 0) + n);
}

/** Nearest-rank percentile (q in (0, 1]) of the histogram, in ms; 0 when empty. */
export function percentile(h: Histogram, q: number): number {
  let total = 0;
  for (const n of h.values()) total += n;
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const b of [...h.keys()].sort((x, y) => x - y)) {
    seen += h.get(b)!;
    if (seen >= rank) return bucketUpperMs(b);
  }
  return 0;
}

/** JSON form (bucket → count) for `additional_data`. */
export function toRecord(h: Histogram): Record<string, number> {
  return Object.fromEntries(h);
}
