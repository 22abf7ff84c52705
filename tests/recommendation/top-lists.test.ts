// Batch scoring ranks each user's lists with topLists (algorithms/top-lists.ts), which skips most of the dense path's
// passes over the catalogue. What it serves must be, to the bit, what the dense path ranks — the path the offline
// evaluation measures — for every blend (kNN and trending weights zero or not), long and empty histories, favourite
// genres only, and users who have seen most of the trending items.
import { describe, expect, it } from "vitest";
import { ALGORITHMS, scoreAllAlgorithms, type Recommender } from "../../src/modules/recommendation/algorithms/recommender.ts";
import { syntheticModel } from "./synthetic-model.ts";
import { createTopListScratch, topLists } from "../../src/modules/recommendation/algorithms/top-lists.ts";
import { topK } from "../../src/modules/recommendation/algorithms/top-k.ts";
import { seededRandom } from "../../src/platform/seeded-random.ts";

const users = 80;
const items = 150;

// EASE on part of the catalogue, as at volume.
const model = (seed: number): Recommender => syntheticModel({ seed, users, items, pairs: 2500, genres: 7, words: 40, extraTokens: ["l:en"], train: { maxItems: 90 } });

describe("topLists", () => {
  const blends = [
    { knn: 0, trending: 0 },
    { knn: 0.3, trending: 0 },
    { knn: 0, trending: 0.1 },
    { knn: 0.2, trending: 0.2 },
  ];
  for (const blend of blends) {
    it(`ranks exactly as topK over the dense scores (kNN ${blend.knn}, trending ${blend.trending})`, () => {
      const m = model(5);
      const params = { ...m.params, ...blend };
      const rnd = seededRandom(17);
      const scratch = createTopListScratch(m);
      const exclude = new Uint8Array(items);
      let compared = 0;
      for (let u = 0; u < 60; u++) {
        // Every 5th user has no history; every 7th has watched most of the catalogue (trending runs short).
        const n = u % 5 === 4 ? 0 : u % 7 === 3 ? 130 : 1 + Math.floor(rnd() * 40);
        const history = {
          items: Int32Array.from({ length: n }, (_, h) => (u % 7 === 3 ? h : Math.floor(rnd() * items))),
          values: Float32Array.from({ length: n }, () => (rnd() < 0.1 ? -1 : 1)),
          times: Float64Array.from({ length: n }, () => 1_700_000_000 + Math.floor(rnd() * 1e6)),
          ...(u % 10 === 4 ? { extraTokens: new Map([["g:3", 1]]) } : {}),
        };
        exclude.fill(0);
        for (const i of history.items) exclude[i] = 1;
        const dense = scoreAllAlgorithms(m, history, exclude, params);
        const lists = topLists(m, history, exclude, 20, params, scratch);
        for (const a of ALGORITHMS) {
          const want = topK(dense[a], 20, { exclude, floor: 0 });
          expect(Array.from(lists[a].indices), `user ${u}, ${a}`).toEqual(Array.from(want.indices));
          expect(Array.from(lists[a].scores), `user ${u}, ${a}`).toEqual(Array.from(want.scores));
          compared += want.indices.length;
        }
      }
      // Not vacuous: most lists are full.
      expect(compared).toBeGreaterThan(60 * 3 * 10);
    });
  }
});
