// EASE's fold-in in WebAssembly SIMD (algorithms/ease-fold.ts) must give the scalar loop's float32 sums to the bit:
// every width (the n mod 4 tail), histories longer than one call's slots, weights and values over many magnitudes.
import { describe, expect, it } from "vitest";
import { easeFold } from "../../src/modules/recommendation/algorithms/ease-fold.ts";
import type { EaseModel } from "../../src/modules/recommendation/algorithms/ease.ts";
import { seededRandom } from "../../src/platform/seeded-random.ts";

function model(n: number, seed: number): EaseModel {
  const rnd = seededRandom(seed);
  // Every third item is in the model; the others fold nothing.
  const position = new Int32Array(3 * n).fill(-1);
  for (let q = 0; q < n; q++) position[3 * q] = q;
  const weights = Float32Array.from({ length: n * n }, () => (rnd() - 0.5) * 10 ** Math.floor(rnd() * 8 - 4));
  return { items: Int32Array.from({ length: n }, (_, q) => 3 * q), position, weights };
}

describe("easeFold", () => {
  it("gives the scalar loop's sums to the bit, any width, long histories, repeated items", () => {
    let compared = 0;
    for (const [n, length] of [[1, 5], [2, 40], [3, 7], [4, 300], [5, 2000], [7, 64], [64, 3000], [301, 500], [1000, 90]]) {
      const ease = model(n, n);
      const rnd = seededRandom(100 + n);
      const items = Array.from({ length }, () => Math.floor(rnd() * 3 * n));
      const values = Float32Array.from(items, () => (rnd() - 0.3) * 10 ** Math.floor(rnd() * 4 - 2));
      const scalar = easeFold(ease, items, values, new Float32Array(n), false).slice();
      const simd = easeFold(ease, items, values, new Float32Array(n));
      expect(simd).not.toBeInstanceOf(Array);
      for (let j = 0; j < n; j++) if (!Object.is(simd[j], scalar[j])) expect([n, j, simd[j]]).toEqual([n, j, scalar[j]]);
      // A second user on the same model starts from zero again.
      const again = easeFold(ease, items.slice(0, 3), values.slice(0, 3), new Float32Array(n));
      const want = easeFold(ease, items.slice(0, 3), values.slice(0, 3), new Float32Array(n), false);
      expect(Array.from(again)).toEqual(Array.from(want));
      compared += n;
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it("rounds each term's sum to float32 as the scalar loop does (a sum in float64 would differ)", () => {
    const ease: EaseModel = { items: Int32Array.from([0, 1, 2, 3, 4]), position: Int32Array.from([0, 1, 2, 3, 4]), weights: new Float32Array(25) };
    // Row 0: 1 everywhere; row 1: 2^-24 everywhere. 1 + 2^-24 rounds to 1 in float32 each time.
    ease.weights.fill(1, 0, 5);
    ease.weights.fill(2 ** -24, 5, 10);
    const acc = easeFold(ease, [0, 1, 1], Float32Array.from([1, 1, 1]), new Float32Array(5));
    expect(Array.from(acc)).toEqual([1, 1, 1, 1, 1]);
  });
});
