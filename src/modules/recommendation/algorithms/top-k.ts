/** Top-k selection over a dense score vector with a min-heap: O(n log k), no per-element objects. */

export interface TopK {
  /** Column indices, best first. */
  readonly indices: Int32Array;
  readonly scores: Float32Array;
}

/**
 * The k best entries of `scores` whose `exclude[i]` is 0 (when given) and whose score is finite and above `floor`.
 * Ties go to the lower index, so results are deterministic. With `indices` (ascending), `scores[t]` is the score of
 * item `indices[t]`: a sparse vector, ranked and excluded by item.
 */
export function topK(scores: ArrayLike<number>, k: number, opts: { exclude?: Uint8Array; floor?: number; indices?: ArrayLike<number> } = {}): TopK {
  const n = scores.length;
  const floor = opts.floor ?? -Infinity;
  const ex = opts.exclude;
  const ids = opts.indices;
  const hi = new Int32Array(k);
  const hs = new Float64Array(k);
  let size = 0;
  // worse(a, b): a ranks below b (lower score, or same score and higher index).
  const worse = (sa: number, ia: number, sb: number, ib: number) => sa < sb || (sa === sb && ia > ib);
  for (let t = 0; t < n; t++) {
    const s = scores[t];
    const i = ids === undefined ? t : ids[t];
    if (!(s > floor) || s === Infinity || (ex !== undefined && ex[i] !== 0)) continue;
    if (size < k) {
      let c = size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!worse(s, i, hs[p], hi[p])) break;
        hs[c] = hs[p];
        hi[c] = hi[p];
        c = p;
      }
      hs[c] = s;
      hi[c] = i;
    } else if (k > 0 && worse(hs[0], hi[0], s, i)) {
      let c = 0;
      for (;;) {
        const l = 2 * c + 1;
        if (l >= size) break;
        const r = l + 1;
        const m = r < size && worse(hs[r], hi[r], hs[l], hi[l]) ? r : l;
        if (!worse(hs[m], hi[m], s, i)) break;
        hs[c] = hs[m];
        hi[c] = hi[m];
        c = m;
      }
      hs[c] = s;
      hi[c] = i;
    }
  }
  // Pop the heap from the worst, filling from the back.
  const indices = new Int32Array(size);
  const out = new Float32Array(size);
  const order = Array.from({ length: size }, (_, j) => j).sort((a, b) => (worse(hs[a], hi[a], hs[b], hi[b]) ? 1 : -1));
  for (let j = 0; j < size; j++) {
    indices[j] = hi[order[j]];
    out[j] = hs[order[j]];
  }
  return { indices, scores: out };
}
