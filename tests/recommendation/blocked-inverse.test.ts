// The blocked SIMD inverse behind EASE: exact enough to replace Gauss–Jordan, at every shape the blocking meets
// (sizes that are not a multiple of the kernel's tile, several pivot blocks, a last block narrower than the others).
import { describe, expect, it } from "vitest";
import { negatedSpdInverse, spdInverse } from "../../src/modules/recommendation/algorithms/blocked-inverse.ts";
import { invertSpdInPlace, solveEase } from "../../src/modules/recommendation/algorithms/ease-solve.ts";
import { kernelValidates } from "../../src/modules/recommendation/algorithms/wasm-kernel.ts";

/** A Gram matrix XᵀX of a random sparse 0/1 users × n matrix with a popularity skew, like EASE's (deterministic). */
function gram(n: number, seed = 7): Float64Array {
  const g = new Float64Array(n * n);
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let u = 0; u < 3 * n; u++) {
    const items = Array.from({ length: 6 }, () => Math.floor(rnd() ** 2 * n));
    for (const a of items) for (const b of items) g[a * n + b] += 1;
  }
  return g;
}

/** The EASE weights as the old kernel computed them: Gauss–Jordan on G + λI, then B = −P_ij / P_jj. */
function oldEase(g: Float64Array, n: number, lambda: number): Float32Array {
  const p = g.slice();
  for (let q = 0; q < n; q++) p[q * n + q] += lambda;
  invertSpdInPlace(p, n);
  const w = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) w[i * n + j] = i === j ? 0 : -p[i * n + j] / p[j * n + j];
  return w;
}

describe("blocked SPD inverse", () => {
  it("emits valid WebAssembly with and without relaxed SIMD", () => {
    expect(kernelValidates(false)).toBe(true);
    // Node 24's V8 has relaxed SIMD: the fused multiply–add variant is the one used.
    expect(kernelValidates(true)).toBe(true);
  });

  for (const [n, block] of [[1, 4], [3, 4], [9, 4], [50, 8], [130, 32], [257, 64]] as const) {
    it(`gives A·A⁻¹ = I at n = ${n} with ${block}-wide pivot blocks`, () => {
      const g = gram(n);
      const lambda = 2;
      const inv = spdInverse(g, n, lambda, { block });
      let worst = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let k = 0; k < n; k++) s += (g[i * n + k] + (i === k ? lambda : 0)) * inv[k * n + j];
          worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
        }
      }
      expect(worst).toBeLessThan(1e-9);
    });
  }

  it("leaves its input as it was and pads to the tile size with the identity", () => {
    const g = gram(10);
    const before = g.slice();
    const { ld, lower } = negatedSpdInverse(g, 10, 1, { block: 4 });
    expect(g).toEqual(before);
    expect(ld).toBe(12);
    expect(lower[11 * ld + 11]).toBe(-1);
    expect(lower[11 * ld + 3]).toBe(0);
  });

  it("rejects a matrix that is not positive definite", () => {
    expect(() => spdInverse(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(RangeError);
  });
});

describe("EASE solve", () => {
  it("matches the old Gauss–Jordan kernel's weights", () => {
    const n = 203;
    const g = gram(n, 11);
    const fresh = solveEase(g, n, 50);
    const old = oldEase(g, n, 50);
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < n * n; i++) {
      worst = Math.max(worst, Math.abs(fresh[i] - old[i]));
      scale = Math.max(scale, Math.abs(old[i]));
    }
    expect(scale).toBeGreaterThan(0.01); // the comparison is not between two zero matrices
    expect(worst).toBeLessThan(1e-6 * scale + 1e-7);
    for (let i = 0; i < n; i++) expect(fresh[i * n + i]).toBe(0);
  });
});
