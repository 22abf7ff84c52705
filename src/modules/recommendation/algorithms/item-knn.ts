/**
 * Item-based k-nearest neighbours: cosine similarity between item columns of the interaction matrix, with
 * shrinkage (so two items sharing one user are not "identical"), keeping the `k` most similar per item as a CSR
 * item × item matrix. Serves GetSimilarMovies and covers items EASE leaves out.
 */
import { transpose, type Csr } from "./csr.ts";
import { topK } from "./top-k.ts";

/** Item × item similarities, each row the item's top-k neighbours (never itself), values in (0, 1]. */
export function trainItemKnn(x: Csr, opts: { k: number; shrink: number }): Csr {
  const xt = transpose(x);
  const items = xt.rows;
  const norms = new Float64Array(items);
  for (let j = 0; j < items; j++) {
    let s = 0;
    for (let p = xt.indptr[j]; p < xt.indptr[j + 1]; p++) s += xt.data[p] * xt.data[p];
    norms[j] = Math.sqrt(s);
  }
  const acc = new Float64Array(items);
  const touched = new Int32Array(items);
  const rowIdx: Int32Array[] = [];
  const rowVal: Float32Array[] = [];
  let nnz = 0;
  for (let a = 0; a < items; a++) {
    let nt = 0;
    for (let p = xt.indptr[a]; p < xt.indptr[a + 1]; p++) {
      const u = xt.indices[p];
      const va = xt.data[p];
      for (let q = x.indptr[u]; q < x.indptr[u + 1]; q++) {
        const b = x.indices[q];
        if (acc[b] === 0) touched[nt++] = b;
        acc[b] += va * x.data[q];
      }
    }
    const cand = new Float32Array(nt);
    for (let t = 0; t < nt; t++) {
      const b = touched[t];
      const dot = acc[b];
      acc[b] = 0;
      cand[t] = b === a || dot <= 0 ? 0 : dot / (norms[a] * norms[b] + opts.shrink);
    }
    const best = topK(cand, opts.k, { floor: 0 });
    const idx = new Int32Array(best.indices.length);
    for (let t = 0; t < idx.length; t++) idx[t] = touched[best.indices[t]];
    const order = Array.from(idx.keys()).sort((s, t) => idx[s] - idx[t]);
    rowIdx.push(Int32Array.from(order, (s) => idx[s]));
    rowVal.push(Float32Array.from(order, (s) => best.scores[s]));
    nnz += idx.length;
  }
  const indptr = new Int32Array(items + 1);
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  for (let a = 0; a < items; a++) {
    indptr[a + 1] = indptr[a] + rowIdx[a].length;
    indices.set(rowIdx[a], indptr[a]);
    data.set(rowVal[a], indptr[a]);
  }
  return { rows: items, cols: items, indptr, indices, data };
}

/** Adds Σ_h values[h] · sim(items[h], ·) into `out`. */
export function scoreItemKnn(sim: Csr, items: ArrayLike<number>, values: ArrayLike<number>, out: Float32Array): void {
  for (let h = 0; h < items.length; h++) {
    const a = items[h];
    const v = values[h];
    for (let p = sim.indptr[a]; p < sim.indptr[a + 1]; p++) out[sim.indices[p]] += v * sim.data[p];
  }
}
