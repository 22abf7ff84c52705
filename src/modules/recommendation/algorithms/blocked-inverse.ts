/**
 * Inverse of a symmetric positive-definite matrix by the blocked sweep operator (Goodnight's SWEEP, block by block),
 * on the lower triangle only, with every O(n³) flop in the WebAssembly SIMD kernel (wasm-kernel.ts).
 *
 * Sweeping pivot block K of a symmetric A, with D = A_KK⁻¹ and Q = A_·K (the block column):
 *   T = Q·D;  A_ij −= T_i·Q_jᵀ (every i, j);  A_iK = T_i (and A_Ki = T_iᵀ);  A_KK = −D.
 * After every block is swept, A holds −A⁻¹. The update is symmetric, so only the lower triangle is computed:
 * n³ flops in all (LAPACK's potrf + potri count the same; numpy's LU-based inv does 2n³), as rank-`block` updates
 * whose inner dimension is the block, which is what makes them fast: each element of A is read and written once
 * per block, and the kernel reuses every loaded value MR or NR times from registers. No pivoting, as in Cholesky:
 * the pivots of an SPD matrix are Schur complements, themselves SPD.
 */
import { createMemory, instantiateKernel, MR, NR, type RankUpdate } from "./wasm-kernel.ts";
import { invertSpdInPlace } from "./ease-solve.ts";

/** −A⁻¹ in the lower triangle of an N×N row-major matrix (N ≥ n, padded with the identity); the upper part is junk. */
export interface NegatedInverse {
  readonly n: number;
  /** Row stride (N). */
  readonly ld: number;
  /** lower[i·ld + j] = −(A⁻¹)_ij for j ≤ i < n. */
  readonly lower: Float64Array;
}

/** Default pivot block: deep enough that the kernel, not memory, bounds the update; measured with bench:kernel. */
export const DEFAULT_BLOCK = 192;

/**
 * Inverts `a + shift·I` (a: dense row-major n×n, symmetric; only its lower triangle is read). Returns −(a + shift·I)⁻¹
 * in the lower triangle of a fresh buffer (a WebAssembly memory; `a` is left as it was).
 */
export function negatedSpdInverse(a: Float64Array, n: number, shift = 0, opts: { block?: number } = {}): NegatedInverse {
  const block = Math.max(NR, Math.floor((opts.block ?? DEFAULT_BLOCK) / NR) * NR);
  const N = Math.ceil(Math.max(n, 1) / MR) * MR; // MR = NR = 4: tiles never cross the padded edge
  const w = Math.min(block, N);
  // Layout (float64 slots): A (N²), X panel packed for the kernel's broadcasts (N·w), Q packed as Y (N·w),
  // T (N·w), D packed as Y (w²).
  const offA = 0;
  const offX = offA + N * N;
  const offY = offX + N * w;
  const offT = offY + N * w;
  const offD = offT + N * w;
  const slots = offD + w * w;
  const pages = Math.ceil((slots * 8) / 65536);
  if (pages > 65536) throw new RangeError(`an ${n}×${n} inverse needs more than 4 GiB`);
  const memory = createMemory(pages);
  const m = new Float64Array(memory.buffer, 0, slots);
  const kernel = instantiateKernel(memory);

  for (let i = 0; i < n; i++) {
    m.set(a.subarray(i * n, i * n + i + 1), offA + i * N);
    m[offA + i * N + i] += shift;
  }
  for (let i = n; i < N; i++) m[offA + i * N + i] = 1; // identity padding: decoupled, inverts to itself

  const d = new Float64Array(w * w);
  for (let k0 = 0; k0 < N; k0 += w) {
    const kw = Math.min(w, N - k0);
    sweepBlock(m, kernel, { N, k0, kw, offA, offX, offY, offT, offD }, d);
  }
  return { n, ld: N, lower: m.subarray(offA, offA + N * N) };
}

interface Layout {
  N: number;
  k0: number;
  kw: number;
  offA: number;
  offX: number;
  offY: number;
  offT: number;
  offD: number;
}

/** Sweeps pivot block [k0, k0 + kw). `d` is scratch for the pivot block's inverse. */
function sweepBlock(m: Float64Array, kernel: RankUpdate, L: Layout, d: Float64Array): void {
  const { N, k0, kw, offA, offX, offY, offT, offD } = L;
  const k1 = k0 + kw;
  // Q = A[:, K] from the lower triangle: rows below K read their own row, rows above read column i of K's rows.
  // Packed twice: X layout (MR rows interleaved per k) and Y layout (NR rows interleaved per k).
  for (let i = 0; i < N; i++) {
    const xBase = offX + Math.floor(i / MR) * kw * MR + (i % MR);
    const yBase = offY + Math.floor(i / NR) * kw * NR + (i % NR);
    for (let k = 0; k < kw; k++) {
      const col = k0 + k;
      const v = i >= col ? m[offA + i * N + col] : m[offA + col * N + i];
      m[xBase + k * MR] = v;
      m[yBase + k * NR] = v;
    }
  }
  // D = A_KK⁻¹ (small: plain Gauss–Jordan), packed as Y.
  const dd = d.subarray(0, kw * kw);
  for (let i = 0; i < kw; i++) for (let k = 0; k < kw; k++) dd[i * kw + k] = m[offY + Math.floor((k0 + i) / NR) * kw * NR + k * NR + ((k0 + i) % NR)];
  invertSpdInPlace(dd, kw);
  for (let j = 0; j < kw; j++) for (let k = 0; k < kw; k++) m[offD + Math.floor(j / NR) * kw * NR + k * NR + (j % NR)] = dd[j * kw + k];
  // T = Q·D (D symmetric, so Q·Dᵀ: the kernel's form).
  m.fill(0, offT, offT + N * kw);
  for (let i0 = 0; i0 < N; i0 += MR) kernel(8 * (offT + i0 * kw), 8 * kw, 8 * (offX + i0 * kw), 8 * offD, kw, kw / NR, 1);
  // T packed as X for the update.
  for (let i = 0; i < N; i++) {
    const xBase = offX + Math.floor(i / MR) * kw * MR + (i % MR);
    const t = offT + i * kw;
    for (let k = 0; k < kw; k++) m[xBase + k * MR] = m[t + k];
  }
  // A_ij −= T_i·Q_jᵀ on and below the diagonal, in column chunks whose Y panel stays in L2 while the X tile of each
  // row stays in L1. Rows and columns of K are updated too and overwritten below (cheaper than skipping them).
  const CHUNK = 128;
  for (let j0 = 0; j0 < N; j0 += CHUNK) {
    for (let i0 = j0 - (j0 % MR); i0 < N; i0 += MR) {
      const jEnd = Math.min(j0 + CHUNK, i0 + MR);
      if (jEnd <= j0) continue;
      const tiles = Math.ceil((jEnd - j0) / NR);
      kernel(8 * (offA + i0 * N + j0), 8 * N, 8 * (offX + i0 * kw), 8 * (offY + (j0 / NR) * kw * NR), kw, tiles, -1);
    }
  }
  // A_iK = T_i below K; A_Ki = T_iᵀ above it; A_KK = −D.
  for (let i = 0; i < N; i++) {
    const t = offT + i * kw;
    if (i >= k1) m.set(m.subarray(t, t + kw), offA + i * N + k0);
    else if (i < k0) for (let k = 0; k < kw; k++) m[offA + (k0 + k) * N + i] = m[t + k];
  }
  for (let i = 0; i < kw; i++) for (let k = 0; k <= i; k++) m[offA + (k0 + i) * N + k0 + k] = -dd[i * kw + k];
}

/** The full symmetric inverse as a dense n×n array (tests and small matrices; EASE reads the lower form directly). */
export function spdInverse(a: Float64Array, n: number, shift = 0, opts: { block?: number } = {}): Float64Array {
  const { lower, ld } = negatedSpdInverse(a, n, shift, opts);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = -lower[i * ld + j];
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
  return out;
}
