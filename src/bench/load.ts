/** Load generation and latency figures shared by the bench scripts. */

export interface LoadResult {
  /** Per-call latencies in ms. */
  latencies: number[];
  /** Wall time of the whole run in ms, minus untimed preparation. */
  wallMs: number;
}

/**
 * Runs `task(i)` for i = 0 … total−1 with `concurrency` calls in flight. `before(i)`, when given, runs
 * untimed ahead of each call (e.g. dropping a cache entry) and is left out of the wall time too.
 */
export async function runLoad(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
  before?: (i: number) => Promise<unknown>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let busy = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        if (before) {
          const t0 = performance.now();
          await before(i);
          busy += performance.now() - t0;
        }
        const t = performance.now();
        await task(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started - busy / concurrency };
}

/** The p-th percentile (nearest rank) of `xs`. */
export function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Calls per second of a run. */
export function ratePerSecond(r: LoadResult): number {
  return (r.latencies.length / r.wallMs) * 1000;
}
