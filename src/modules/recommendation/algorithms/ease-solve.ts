/**
 * The numerical kernel of EASE, on its own so training (and its worker thread) calls one pure function and the kernel
 * can be measured and replaced alone (`npm run bench:kernel` times it next to numpy/OpenBLAS):
 * P = (G + λI)⁻¹, B = I − P·diag(1/diag(P)), returned row-major as float32 with a zero diagonal.
 */

/** EASE weights from a dense, row-major n×n Gram matrix (XᵀX). `gram` is consumed (overwritten). */
export function solveEase(gram: Float64Array, n: number, lambda: number): Float32Array {
  for (let q = 0; q < n; q++) gram[q * n + q] += lambda;
  invertSpdInPlace(gram, n);
  const weights = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) weights[i * n + j] = i === j ? 0 : -gram[i * n + j] / gram[j * n + j];
  }
  return weights;
}

/**
 * Inverts a symmetric positive-definite matrix in place by Gauss–Jordan elimination without pivoting (stable for
 * SPD matrices); the inner loop runs over contiguous rows, which V8 compiles to a tight loop. 2n³ flops, streamed
 * through memory once per pivot: at n = 2,500 it is memory-bound (see the kernel bench for the figures).
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
