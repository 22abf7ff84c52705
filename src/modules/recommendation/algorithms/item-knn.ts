/**
 * Item-based k-nearest neighbours: cosine similarity between item columns of the interaction matrix, with
 * shrinkage (so two items sharing one user are not "identical"), keeping the `k` most similar per item as a CSR
 * item × item matrix. Serves GetSimilarMovies and covers items EASE leaves out.
 *
 * Each pair is computed once: sim(a, b) = sim(b, a) to the bit (the same products summed in the same user order), so
 * the dot products of a go only to items after it, and each similarity is offered to both items' neighbour heaps.
 * That halves the co-occurrence pass, which at the design's volume (9 M interactions, long-tailed histories) was
 * nearly all of training (94 s of 108 s on 2 Dec 2026).
 */
import { transpose, type Csr } from "./csr.ts";
import { sweepInThreads } from "./item-knn-threads.ts";

/**
 * Item × item similarities, each row the item's top-k neighbours (never itself), values in (0, 1], ties to the lower
 * item. With `threads` > 1, that many threads (this one and helpers, item-knn-threads.ts) take ranges of items from a
 * shared counter and their heaps are merged: the same result, on more cores.
 */
export function trainItemKnn(x: Csr, opts: { k: number; shrink: number; threads?: number }): Csr {
  const xt = transpose(x);
  const norms = columnNorms(xt);
  const threads = Math.max(1, Math.min(opts.threads ?? 1, xt.rows));
  if (threads === 1) {
    const heaps = new NeighbourHeaps(xt.rows, opts.k);
    new PairSweeper(x, xt, norms, opts.shrink).sweep(0, xt.rows, heaps);
    return heaps.toCsr();
  }
  return sweepInThreads(x, xt, norms, opts.k, opts.shrink, threads);
}

/** The Euclidean norm of each item column (rows of `xt`). */
export function columnNorms(xt: Csr): Float64Array {
  const norms = new Float64Array(xt.rows);
  for (let j = 0; j < xt.rows; j++) {
    let s = 0;
    for (let p = xt.indptr[j]; p < xt.indptr[j + 1]; p++) s += xt.data[p] * xt.data[p];
    norms[j] = Math.sqrt(s);
  }
  return norms;
}

/**
 * Offers sim(a, b) for every a in a range and b > a with a positive dot product to both items' heaps. A range of items
 * is a unit of work on its own: threads take ranges in any order and merge their heaps (item-knn-threads.ts). The
 * buffers are the sweeper's, reused from range to range.
 */
export class PairSweeper {
  readonly #x: Csr;
  readonly #xt: Csr;
  readonly #norms: Float64Array;
  readonly #shrink: number;
  readonly #acc: Float64Array;
  readonly #touched: Int32Array;
  // mark[b] === a + 1: b is in `touched` for a. (Testing acc[b] === 0 instead listed b again after each zero product
  // — stored zero weights — and a popular item's list could outgrow the array, silently dropping neighbours.)
  readonly #mark: Int32Array;
  // cursor[u]: where in user u's row (ascending items) the sweep's next item is, valid while cursorRange[u] is the
  // current range's number; items are visited in order, so when a comes up in u's row it is at cursor[u].
  readonly #cursor: Int32Array;
  readonly #cursorRange: Int32Array;
  #range = 0;

  constructor(x: Csr, xt: Csr, norms: Float64Array, shrink: number) {
    this.#x = x;
    this.#xt = xt;
    this.#norms = norms;
    this.#shrink = shrink;
    this.#acc = new Float64Array(xt.rows);
    this.#touched = new Int32Array(xt.rows);
    this.#mark = new Int32Array(xt.rows);
    this.#cursor = new Int32Array(x.rows);
    this.#cursorRange = new Int32Array(x.rows);
  }

  sweep(from: number, to: number, heaps: NeighbourHeaps): void {
    const x = this.#x;
    const xt = this.#xt;
    const norms = this.#norms;
    const acc = this.#acc;
    const touched = this.#touched;
    const mark = this.#mark;
    const cursor = this.#cursor;
    const cursorRange = this.#cursorRange;
    const range = ++this.#range;
    for (let a = from; a < to; a++) {
      let nt = 0;
      const stamp = a + 1;
      for (let p = xt.indptr[a]; p < xt.indptr[a + 1]; p++) {
        const u = xt.indices[p];
        const va = xt.data[p];
        // First meeting of u in this range: find a in its row.
        if (cursorRange[u] !== range) {
          cursorRange[u] = range;
          cursor[u] = lowerBound(x.indices, x.indptr[u], x.indptr[u + 1], a);
        }
        const start = ++cursor[u];
        const end = x.indptr[u + 1];
        for (let q = start; q < end; q++) {
          const b = x.indices[q];
          if (mark[b] !== stamp) {
            mark[b] = stamp;
            touched[nt++] = b;
          }
          acc[b] += va * x.data[q];
        }
      }
      const na = norms[a];
      for (let t = 0; t < nt; t++) {
        const b = touched[t];
        const dot = acc[b];
        acc[b] = 0;
        if (dot <= 0) continue;
        const sim = Math.fround(dot / (na * norms[b] + this.#shrink));
        heaps.offer(a, sim, b);
        heaps.offer(b, sim, a);
      }
    }
  }
}

/** First position in `indices[lo, hi)` (ascending) holding a value ≥ `v`. */
function lowerBound(indices: Int32Array, lo: number, hi: number, v: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (indices[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One min-heap of the k best (similarity, item) per row, in flat typed arrays (50,000 heaps of 100 at the design's
 * volume). Better means a higher similarity, or the same and a lower item; the root is the worst kept.
 */
export class NeighbourHeaps {
  readonly rows: number;
  readonly k: number;
  readonly sizes: Int32Array;
  readonly ids: Int32Array;
  readonly sims: Float64Array;
  /**
   * The root's similarity of each full heap (-Infinity until full): most offers are below it and end on this small
   * array instead of a random read of the large ones (the sweep is bound by those reads on 2 threads).
   */
  readonly #floors: Float64Array;

  constructor(rows: number, k: number, state?: { sizes: Int32Array; ids: Int32Array; sims: Float64Array }) {
    this.rows = rows;
    this.k = k;
    this.sizes = state?.sizes ?? new Int32Array(rows);
    this.ids = state?.ids ?? new Int32Array(rows * k);
    this.sims = state?.sims ?? new Float64Array(rows * k);
    this.#floors = new Float64Array(rows).fill(-Infinity);
    for (let row = 0; row < rows; row++) if (this.sizes[row] === k && k > 0) this.#floors[row] = this.sims[row * k];
  }

  offer(row: number, s: number, id: number): void {
    if (s < this.#floors[row]) return;
    const k = this.k;
    if (k === 0) return;
    const base = row * k;
    const hs = this.sims;
    const hi = this.ids;
    const size = this.sizes[row];
    if (size < k) {
      let c = size;
      this.sizes[row] = size + 1;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (hs[base + p] < s || (hs[base + p] === s && hi[base + p] > id)) break;
        hs[base + c] = hs[base + p];
        hi[base + c] = hi[base + p];
        c = p;
      }
      hs[base + c] = s;
      hi[base + c] = id;
      if (size + 1 === k) this.#floors[row] = hs[base];
      return;
    }
    if (!(hs[base] < s || (hs[base] === s && hi[base] > id))) return;
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= k) break;
      const r = l + 1;
      const m = r < k && (hs[base + r] < hs[base + l] || (hs[base + r] === hs[base + l] && hi[base + r] > hi[base + l])) ? r : l;
      if (!(hs[base + m] < s || (hs[base + m] === s && hi[base + m] > id))) break;
      hs[base + c] = hs[base + m];
      hi[base + c] = hi[base + m];
      c = m;
    }
    hs[base + c] = s;
    hi[base + c] = id;
    this.#floors[row] = hs[base];
  }

  /** Offers everything `other` holds (heaps of the same shape filled from other item ranges). */
  merge(other: NeighbourHeaps): void {
    for (let row = 0; row < this.rows; row++) {
      const base = row * this.k;
      for (let t = 0; t < other.sizes[row]; t++) this.offer(row, other.sims[base + t], other.ids[base + t]);
    }
  }

  /** Rows with their neighbours in item order. */
  toCsr(): Csr {
    const { rows, k } = this;
    const indptr = new Int32Array(rows + 1);
    for (let row = 0; row < rows; row++) indptr[row + 1] = indptr[row] + this.sizes[row];
    const indices = new Int32Array(indptr[rows]);
    const data = new Float32Array(indptr[rows]);
    for (let row = 0; row < rows; row++) {
      const base = row * k;
      const n = this.sizes[row];
      const order = Array.from({ length: n }, (_, t) => t).sort((s, t) => this.ids[base + s] - this.ids[base + t]);
      for (let t = 0; t < n; t++) {
        indices[indptr[row] + t] = this.ids[base + order[t]];
        data[indptr[row] + t] = this.sims[base + order[t]];
      }
    }
    return { rows, cols: rows, indptr, indices, data };
  }
}

/** Adds Σ_h values[h] · sim(items[h], ·) into `out`. */
export function scoreItemKnn(sim: Csr, items: ArrayLike<number>, values: ArrayLike<number>, out: Float32Array): void {
  for (let h = 0; h < items.length; h++) {
    const a = items[h];
    const v = values[h];
    for (let p = sim.indptr[a]; p < sim.indptr[a + 1]; p++) out[sim.indices[p]] += v * sim.data[p];
  }
}
