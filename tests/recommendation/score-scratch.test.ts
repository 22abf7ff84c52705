// Batch scoring reuses six score buffers across the users of a batch (createScoreScratch): each user's four lists must
// equal, to the bit, what fresh arrays give — whatever the previous user left in the buffers (a long history, a cold
// start with favourite genres only, nothing at all).
import { describe, expect, it } from "vitest";
import { ALGORITHMS, createScoreScratch, DEFAULT_TRAIN, scoreAllAlgorithms } from "../../src/modules/recommendation/algorithms/recommender.ts";
import { seededRandom } from "../../src/platform/seeded-random.ts";
import { syntheticModel } from "./synthetic-model.ts";

describe("score buffers reused across users", () => {
  it("give exactly the scores of fresh arrays, user after user", () => {
    const rnd = seededRandom(11);
    const users = 60;
    const items = 120;
    const model = syntheticModel({ seed: 11, users, items, pairs: 1500, genres: 7, words: 40, train: { maxItems: 80, hybrid: { ...DEFAULT_TRAIN.hybrid, knn: 0.3, trending: 0.1 } } });
    const scratch = createScoreScratch(items);
    const exclude = new Uint8Array(items);
    for (let u = 0; u < 30; u++) {
      const n = u % 5 === 4 ? 0 : 1 + Math.floor(rnd() * 40);
      const history = {
        items: Int32Array.from({ length: n }, () => Math.floor(rnd() * items)),
        values: Float32Array.from({ length: n }, () => (rnd() < 0.1 ? -1 : 1)),
        times: Float64Array.from({ length: n }, () => 1_700_000_000 + Math.floor(rnd() * 1e6)),
        ...(u % 10 === 4 ? { extraTokens: new Map([["g:3", 1]]) } : {}),
      };
      exclude.fill(0);
      for (const i of history.items) exclude[i] = 1;
      const fresh = scoreAllAlgorithms(model, history, exclude);
      const reused = scoreAllAlgorithms(model, history, exclude, model.params, scratch);
      for (const a of ALGORITHMS) expect(Array.from(reused[a]), `user ${u}, ${a}`).toEqual(Array.from(fresh[a]));
    }
  });
});
