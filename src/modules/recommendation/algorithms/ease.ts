/**
 * EASE (Steck 2019): a closed-form item–item linear model, B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹.
 * The Gram matrix is dense (n² floats), so the model is restricted to the `maxItems` most interacted-with items:
 * at the design's volume (50,000 movies) the long tail beyond them has too few interactions to learn weights for,
 * and content-based scoring covers it instead.
 */
import { columnCounts, type Csr } from "./csr.ts";
import { easeFold } from "./ease-fold.ts";
import { solveEase } from "./ease-solve.ts";

export { invertSpdInPlace, solveEase } from "./ease-solve.ts";

export interface EaseModel {
  /** Model position → matrix column (item index). */
  readonly items: Int32Array;
  /** Matrix column → model position, or -1 when the item is outside the model. */
  readonly position: Int32Array;
  /** Row-major n×n weights, zero diagonal: score_j = Σ_i x_i · weights[i·n + j]. */
  readonly weights: Float32Array;
}

/** Fits EASE on a users × items matrix. */
export function trainEase(x: Csr, opts: { lambda: number; maxItems: number; minCount?: number }): EaseModel {
  const counts = columnCounts(x);
  const candidates: number[] = [];
  for (let j = 0; j < x.cols; j++) if (counts[j] >= (opts.minCount ?? 1)) candidates.push(j);
  candidates.sort((a, b) => counts[b] - counts[a] || a - b);
  const items = Int32Array.from(candidates.slice(0, opts.maxItems)).sort();
  const n = items.length;
  const position = new Int32Array(x.cols).fill(-1);
  for (let q = 0; q < n; q++) position[items[q]] = q;

  const weights = solveEase(gram(x, position, n), n, opts.lambda);
  return { items, position, weights };
}

/** XᵀX over the model's items (dense, row-major, float64 for the inversion). */
export function gram(x: Csr, position: Int32Array, n: number): Float64Array {
  const g = new Float64Array(n * n);
  const pos: number[] = [];
  const val: number[] = [];
  for (let u = 0; u < x.rows; u++) {
    pos.length = 0;
    val.length = 0;
    for (let p = x.indptr[u]; p < x.indptr[u + 1]; p++) {
      const q = position[x.indices[p]];
      if (q >= 0) {
        pos.push(q);
        val.push(x.data[p]);
      }
    }
    for (let a = 0; a < pos.length; a++) {
      const row = pos[a] * n;
      const va = val[a];
      for (let b = 0; b < pos.length; b++) g[row + pos[b]] += va * val[b];
    }
  }
  return g;
}

/** Adds EASE scores for one user's history (item indices and weights) into `out` (length = item count). */
export function scoreEase(model: EaseModel, items: ArrayLike<number>, values: ArrayLike<number>, out: Float32Array): void {
  const n = model.items.length;
  // The plain loop of the batch path's fold-in (the dense definition the evaluation scores stays in plain JS).
  const acc = easeFold(model, items, values, new Float32Array(n), false);
  for (let j = 0; j < n; j++) out[model.items[j]] += acc[j];
}
