// Content scoring keeps a profile's strongest features through a threshold found by selection (content.ts,
// kthSmallest): it must be the value a full sort puts at position k, for every k, with duplicates, constant runs,
// sorted and reversed input and negatives (it is given magnitudes, so ±0 never meet).
import { describe, expect, it } from "vitest";
import { kthSmallest } from "../../src/modules/recommendation/algorithms/content.ts";
import { seededRandom } from "../../src/platform/seeded-random.ts";

describe("kthSmallest", () => {
  const rnd = seededRandom(21);
  const inputs: number[][] = [
    [5],
    [2, 2, 2, 2, 2],
    Array.from({ length: 50 }, (_, i) => i),
    Array.from({ length: 50 }, (_, i) => 50 - i),
    Array.from({ length: 200 }, () => Math.floor(rnd() * 7)),
    Array.from({ length: 301 }, () => (rnd() - 0.5) * 1e3),
    [0, 1, -1, 0, 3, -2, 0],
  ];
  for (const input of inputs) {
    it(`equals the sorted array's entry at every position (${input.length} values)`, () => {
      const sorted = Float64Array.from(input).sort();
      for (let k = 0; k < input.length; k++) expect(kthSmallest(Float64Array.from(input), k)).toBe(sorted[k]);
    });
  }
});
