/**
 * The evaluation protocol's split: every rating is an implicit interaction; users with fewer than `minInteractions`
 * are dropped; per user, the latest `testFraction` by timestamp (at least one) is held out.
 */
export interface Interactions {
  readonly user: Int32Array;
  readonly item: Int32Array;
  readonly time: Float64Array;
  /** Signed weight per interaction as the workers give it (interaction-weights.ts); 1 each when absent. */
  readonly weight?: Float32Array;
}

export interface Split {
  readonly train: Interactions;
  readonly test: Interactions;
}

/**
 * Temporal per-user split; ties in time are broken by item index (readRatings numbers items in movie id order, as the
 * catalogue does), so the split is the same whatever the file's row order.
 */
export function temporalSplit(data: Interactions, opts: { minInteractions: number; testFraction: number }): Split {
  const byUser = new Map<number, number[]>();
  for (let k = 0; k < data.user.length; k++) {
    let list = byUser.get(data.user[k]);
    if (!list) byUser.set(data.user[k], (list = []));
    list.push(k);
  }
  const train: number[] = [];
  const test: number[] = [];
  for (const list of byUser.values()) {
    if (list.length < opts.minInteractions) continue;
    list.sort((a, b) => data.time[a] - data.time[b] || data.item[a] - data.item[b] || a - b);
    const nTest = Math.max(1, Math.round(list.length * opts.testFraction));
    const cut = list.length - nTest;
    for (let j = 0; j < list.length; j++) (j < cut ? train : test).push(list[j]);
  }
  return { train: pick(data, train), test: pick(data, test) };
}

function pick(data: Interactions, rows: number[]): Interactions {
  const w = data.weight;
  return {
    user: Int32Array.from(rows, (k) => data.user[k]),
    item: Int32Array.from(rows, (k) => data.item[k]),
    time: Float64Array.from(rows, (k) => data.time[k]),
    ...(w ? { weight: Float32Array.from(rows, (k) => w[k]) } : {}),
  };
}
