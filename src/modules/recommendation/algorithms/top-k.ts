/** Top-k selection over a score vector with a min-heap: O(n log k), no per-element objects. */

export interface TopK {
  /** Column indices, best first. */
  readonly indices: Int32Array;
  readonly scores: Float32Array;
}

/**
 * The k best (score, index) pairs offered, ties to the lower index. The heap's root is the worst kept, so once it is
 * full most offers end at one comparison (`floorScore`), which the scan loops below read before calling `offer`.
 */
export class TopKHeap {
  readonly #k: number;
  readonly #hi: Int32Array;
  readonly #hs: Float64Array;
  size = 0;
  /** Scores below this can not enter (the root's score when full, else -Infinity). */
  floorScore = -Infinity;

  constructor(k: number) {
    this.#k = k;
    this.#hi = new Int32Array(k);
    this.#hs = new Float64Array(k);
  }

  offer(s: number, i: number): void {
    const hs = this.#hs;
    const hi = this.#hi;
    if (this.size < this.#k) {
      let c = this.size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        // Stop once the parent is worse than (s, i) (a min-heap by rank).
        if (hs[p] < s || (hs[p] === s && hi[p] > i)) break;
        hs[c] = hs[p];
        hi[c] = hi[p];
        c = p;
      }
      hs[c] = s;
      hi[c] = i;
    } else {
      if (this.#k === 0 || !(hs[0] < s || (hs[0] === s && hi[0] > i))) return;
      this.#replaceRoot(s, i, this.size);
    }
    if (this.size === this.#k && this.#k > 0) this.floorScore = hs[0];
  }

  /** Puts (s, i) in the root's place of the heap's first `size` entries and sifts it down. */
  #replaceRoot(s: number, i: number, size: number): void {
    const hs = this.#hs;
    const hi = this.#hi;
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= size) break;
      const r = l + 1;
      const m = r < size && (hs[r] < hs[l] || (hs[r] === hs[l] && hi[r] > hi[l])) ? r : l;
      if (!(hs[m] < s || (hs[m] === s && hi[m] > i))) break;
      hs[c] = hs[m];
      hi[c] = hi[m];
      c = m;
    }
    hs[c] = s;
    hi[c] = i;
  }

  /**
   * Best first, and the heap is empty after. Heapsort: the root is the worst kept, so popping it k times fills the
   * result from its end — the same order as sorting by (score desc, index asc), since no two entries tie on both,
   * without the index array and the comparator calls of a sort (a tenth of a scoring thread's time for 4 lists a user).
   */
  result(): TopK {
    const n = this.size;
    const hs = this.#hs;
    const hi = this.#hi;
    const indices = new Int32Array(n);
    const scores = new Float32Array(n);
    for (let end = n - 1; end >= 0; end--) {
      indices[end] = hi[0];
      scores[end] = hs[0];
      // The last entry of the heap sifts down from the root of the heap one shorter.
      this.#replaceRoot(hs[end], hi[end], end);
    }
    this.size = 0;
    this.floorScore = -Infinity;
    return { indices, scores };
  }
}

/**
 * The k best entries of `scores` whose `exclude[i]` is 0 (when given) and whose score is finite and above `floor`.
 * Ties go to the lower index, so results are deterministic. With `indices` (ascending), `scores[t]` is the score of
 * item `indices[t]`: a sparse vector, ranked and excluded by item.
 */
export function topK(scores: ArrayLike<number>, k: number, opts: { exclude?: Uint8Array; floor?: number; indices?: ArrayLike<number> } = {}): TopK {
  if (opts.indices === undefined && scores instanceof Float32Array) return topKFloat32(scores, k, opts.exclude, opts.floor);
  const n = scores.length;
  const floor = opts.floor ?? -Infinity;
  const ex = opts.exclude;
  const ids = opts.indices;
  const heap = new TopKHeap(k);
  for (let t = 0; t < n; t++) {
    const s = scores[t];
    if (!(s > floor) || s < heap.floorScore || s === Infinity) continue;
    const i = ids === undefined ? t : ids[t];
    if (ex !== undefined && ex[i] !== 0) continue;
    heap.offer(s, i);
  }
  return heap.result();
}

/**
 * The same over a dense Float32Array: the per-user lists of batch scoring rank two 50,000-item vectors each, and a
 * loop that only ever sees one array type is several times faster than the shared one seeing four.
 */
function topKFloat32(scores: Float32Array, k: number, ex: Uint8Array | undefined, floor = -Infinity): TopK {
  const n = scores.length;
  const heap = new TopKHeap(k);
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    if (!(s > floor) || s < heap.floorScore || s === Infinity) continue;
    if (ex !== undefined && ex[i] !== 0) continue;
    heap.offer(s, i);
  }
  return heap.result();
}
