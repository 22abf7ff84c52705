/**
 * The numerical kernel of EASE, on its own so training (and its worker thread) calls one pure function and the kernel
 * can be measured and replaced alone (`npm run bench:kernel` times it next to numpy/OpenBLAS):
 * P = (G + λI)⁻¹, B = I − P·diag(1/diag(P)), returned row-major as float32 with a zero diagonal.
 * The inverse is the blocked sweep of blocked-inverse.ts (WebAssembly SIMD); Gauss–Jordan below inverts its small
 * pivot blocks and stays the reference the tests compare it with.
 */
import { negatedSpdInverse } from "./blocked-inverse.ts";

/** EASE weights from a dense, row-major n×n Gram matrix (XᵀX; only its lower triangle is read, and it is not modified). */
export function solveEase(gram: Float64Array, n: number, lambda: number, opts: { block?: number } = {}): Float32Array {
  const { lower, ld } = negatedSpdInverse(gram, n, lambda, opts);
  // lower holds −P: B_ij = −P_ij / P_jj = −lower_ij / lower_jj. Square tiles keep the transposed reads (upper half
  // from the lower triangle) within cache.
  const weights = new Float32Array(n * n);
  const inv = new Float64Array(n);
  for (let j = 0; j < n; j++) inv[j] = -1 / lower[j * ld + j];
  const TILE = 64;
  for (let i0 = 0; i0 < n; i0 += TILE) {
    const i1 = Math.min(n, i0 + TILE);
    for (let j0 = 0; j0 <= i0; j0 += TILE) {
      const j1 = Math.min(n, j0 + TILE);
      for (let i = i0; i < i1; i++) {
        const row = i * ld;
        for (let j = j0; j < j1 && j < i; j++) {
          const v = lower[row + j];
          weights[i * n + j] = v * inv[j];
          weights[j * n + i] = v * inv[i];
        }
      }
    }
  }
  return weights;
}

/**
 * Inverts a symmetric positive-definite matrix in place by Gauss–Jordan elimination without pivoting (stable for
 * SPD matrices); 2n³ flops streamed through memory once per pivot, so only for small matrices: the blocked sweep's
 * pivot blocks, and the reference its tests compare with.
 */
export function invertSpdInPlace(a: Float64Array, n: number): void {
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    const pivot = a[rk + k];
    if (!(pivot > 0)) throw new RangeError(`matrix is not positive definite (pivot ${pivot} at ${k})`);
    const inv = 1 / pivot;
    a[rk + k] = 1;
    for (let j = 0; j < n; j++) a[rk + j] *= inv;
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const ri = i * n;
      const f = a[ri + k];
      if (f === 0) continue;
      a[ri + k] = 0;
      for (let j = 0; j < n; j++) a[ri + j] -= f * a[rk + j];
    }
  }
}
