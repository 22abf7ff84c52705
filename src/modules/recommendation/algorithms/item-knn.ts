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

/** Item × item similarities, each row the item's top-k neighbours (never itself), values in (0, 1], ties to the lower item. */
export function trainItemKnn(x: Csr, opts: { k: number; shrink: number }): Csr {
  const xt = transpose(x);
  const heaps = new NeighbourHeaps(xt.rows, opts.k);
  offerPairs(x, xt, columnNorms(xt), opts.shrink, 0, xt.rows, heaps);
  return heaps.toCsr();
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
 * Offers sim(a, b) for every a in [from, to) and b > a with a positive dot product to both items' heaps. A range of
 * items is a unit of work on its own (threads can take ranges and merge their heaps).
 */
export function offerPairs(x: Csr, xt: Csr, norms: Float64Array, shrink: number, from: number, to: number, heaps: NeighbourHeaps): void {
  const items = xt.rows;
  // cursor[u]: where in user u's row (ascending items) the next item of the sweep is; items are visited in order, so
  // when a comes up in u's row it is exactly there, and the items after it start at cursor[u] + 1.
  const cursor = new Int32Array(x.rows);
  for (let u = 0; u < x.rows; u++) cursor[u] = lowerBound(x.indices, x.indptr[u], x.indptr[u + 1], from);
  const acc = new Float64Array(items);
  const touched = new Int32Array(items);
  // mark[b] === a + 1: b is in `touched` for a. (Testing acc[b] === 0 instead listed b again after each zero product
  // — stored zero weights — and a popular item's list could outgrow the array, silently dropping neighbours.)
  const mark = new Int32Array(items);
  for (let a = from; a < to; a++) {
    let nt = 0;
    const stamp = a + 1;
    for (let p = xt.indptr[a]; p < xt.indptr[a + 1]; p++) {
      const u = xt.indices[p];
      const va = xt.data[p];
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
      const sim = Math.fround(dot / (na * norms[b] + shrink));
      heaps.offer(a, sim, b);
      heaps.offer(b, sim, a);
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

  constructor(rows: number, k: number, state?: { sizes: Int32Array; ids: Int32Array; sims: Float64Array }) {
    this.rows = rows;
    this.k = k;
    this.sizes = state?.sizes ?? new Int32Array(rows);
    this.ids = state?.ids ?? new Int32Array(rows * k);
    this.sims = state?.sims ?? new Float64Array(rows * k);
  }

  offer(row: number, s: number, id: number): void {
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
