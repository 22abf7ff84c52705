/** The numerical core on tiny hand-made matrices: values checked against hand computation. */
import { describe, expect, it } from "vitest";
import { csrFromCoo, toDense, transpose } from "../../src/modules/recommendation/algorithms/csr.ts";
import { topK } from "../../src/modules/recommendation/algorithms/top-k.ts";
import { invertSpdInPlace, scoreEase, trainEase } from "../../src/modules/recommendation/algorithms/ease.ts";
import { scoreItemKnn, trainItemKnn } from "../../src/modules/recommendation/algorithms/item-knn.ts";
import { contentSimilarity, scoreContent, trainContent } from "../../src/modules/recommendation/algorithms/content.ts";
import { trendingScores } from "../../src/modules/recommendation/algorithms/trending.ts";
import { recencyWeights } from "../../src/modules/recommendation/algorithms/hybrid.ts";
import { ALGORITHMS, scoreAllAlgorithms, scoreUser, trainRecommender, DEFAULT_TRAIN } from "../../src/modules/recommendation/algorithms/recommender.ts";
import { MetricsAccumulator } from "../../src/eval/metrics.ts";
import { createReasonPicker } from "../../src/modules/recommendation/reasons.ts";
import { temporalSplit } from "../../src/eval/split.ts";

// Users 0–2 watch items 0 and 1 together; users 3–4 watch 2 and 3 together; user 5 watches 0 and 2.
const U = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5];
const I = [0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 0, 2];
const X = () => csrFromCoo(6, 4, U, I, new Float32Array(U.length).fill(1));

describe("CSR", () => {
  it("sorts columns within rows and sums duplicates", () => {
    const m = csrFromCoo(2, 3, [1, 0, 1, 1], [2, 1, 0, 2], [1, 2, 3, 4]);
    expect(toDense(m)).toEqual([[0, 2, 0], [3, 0, 5]]);
    expect([...m.indices]).toEqual([1, 0, 2]);
    expect(toDense(transpose(m))).toEqual([[0, 3], [2, 0], [0, 5]]);
  });
  it("rejects entries outside the shape", () => {
    expect(() => csrFromCoo(1, 1, [0], [1], [1])).toThrow(RangeError);
  });
});

describe("topK", () => {
  it("returns the best k, skipping excluded entries, ties to the lower index", () => {
    const r = topK(Float32Array.from([0.5, 0.9, 0.1, 0.9, 0.7]), 3, { exclude: Uint8Array.from([0, 0, 0, 0, 1]) });
    expect([...r.indices]).toEqual([1, 3, 0]);
    expect([...r.scores]).toEqual([Math.fround(0.9), Math.fround(0.9), 0.5]);
  });
  it("orders as a full sort by score then index does, ties, -0 and k past the entries included", () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(rnd() * 400);
      // Few distinct values, so many ties; some entries excluded, some not above the floor.
      const scores = Float32Array.from({ length: n }, () => (rnd() < 0.05 ? -0 : Math.floor(rnd() * 20) / 7 - 0.5));
      const exclude = Uint8Array.from({ length: n }, () => (rnd() < 0.2 ? 1 : 0));
      const k = Math.floor(rnd() * 150);
      const r = topK(scores, k, { exclude, floor: -0.25 });
      const want = Array.from(scores.keys()).filter((i) => exclude[i] === 0 && scores[i] > -0.25).sort((a, b) => scores[b] - scores[a] || a - b).slice(0, k);
      expect([...r.indices]).toEqual(want);
      expect([...r.scores]).toEqual(want.map((i) => scores[i]));
    }
  });
});

describe("EASE", () => {
  it("inverts an SPD matrix", () => {
    const a = Float64Array.from([4, 1, 2, 1, 3, 0, 2, 0, 5]);
    const inv = a.slice();
    invertSpdInPlace(inv, 3);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += a[i * 3 + k] * inv[k * 3 + j];
        expect(s).toBeCloseTo(i === j ? 1 : 0, 10);
      }
  });
  it("matches the closed form on two items and recommends the co-watched item", () => {
    // Capped to items 0 and 1: G = XᵀX + λI = [[4+1, 3], [3, 3+1]], P = G⁻¹ → B01 = −P01/P11 = 3/5.
    const two = trainEase(X(), { lambda: 1, maxItems: 2 });
    expect(two.weights[1]).toBeCloseTo(3 / 5, 5);
    expect(two.weights[0]).toBe(0);
    const m = trainEase(X(), { lambda: 1, maxItems: 10 });
    const out = new Float32Array(4);
    scoreEase(m, [0], [1], out);
    expect(out[1]).toBeGreaterThan(out[2]);
    expect(out[1]).toBeGreaterThan(out[3]);
  });
  it("keeps only the most popular items when capped", () => {
    const m = trainEase(X(), { lambda: 1, maxItems: 2 });
    expect([...m.items]).toEqual([0, 1]);
    expect(m.position[3]).toBe(-1);
  });
});

describe("item-kNN", () => {
  it("computes shrunk cosine similarities and never lists an item as its own neighbour", () => {
    const sim = trainItemKnn(X(), { k: 10, shrink: 0 });
    const row = (a: number) => new Map([...sim.indices.subarray(sim.indptr[a], sim.indptr[a + 1])].map((b, t) => [b, sim.data[sim.indptr[a] + t]]));
    // Item 0: users {0,1,2,5}; item 1: {0,1,2}; item 2: {3,4,5}. cos(0,1) = 3/√12, cos(0,2) = 1/√12.
    expect(row(0).get(1)).toBeCloseTo(3 / Math.sqrt(12), 5);
    expect(row(0).get(2)).toBeCloseTo(1 / Math.sqrt(12), 5);
    expect(row(0).has(0)).toBe(false);
    expect(row(1).has(3)).toBe(false);
    const out = new Float32Array(4);
    scoreItemKnn(sim, [2], [1], out);
    expect(out[3]).toBeGreaterThan(out[0]);
  });
});

describe("content", () => {
  it("scores items sharing rare tokens above items sharing none", () => {
    const m = trainContent([["g:SciFi", "k:space"], ["g:SciFi", "k:space", "k:alien"], ["g:Drama", "k:love"], ["g:Drama"]]);
    expect(contentSimilarity(m, 0, 0)).toBeCloseTo(1, 5);
    expect(contentSimilarity(m, 0, 1)).toBeGreaterThan(0.5);
    expect(contentSimilarity(m, 0, 2)).toBe(0);
    const out = new Float32Array(4);
    scoreContent(m, [], [], out, new Map([["g:Drama", 1]]));
    expect(out[3]).toBeGreaterThan(out[0]);
    expect(out[2]).toBeGreaterThan(0);
  });
});

describe("trending and recency", () => {
  it("halves an interaction's weight every half-life and normalises to the top item", () => {
    const day = 86_400;
    const t = trendingScores(3, [0, 1, 1], [1, 1, 1], [14 * day, 7 * day, 7 * day], 7);
    expect(t[0]).toBe(1); // 1 versus 2 × 0.5
    expect(t[1]).toBeCloseTo(1, 5);
    expect(t[2]).toBe(0);
    const t2 = trendingScores(2, [0, 1], [1, 1], [14 * day, 0], 7);
    expect(t2[1]).toBeCloseTo(0.25, 5);
  });
  it("measures age from the latest interaction, so year-old data trends and nothing underflows", () => {
    const day = 86_400;
    const yearAgo = Date.now() / 1000 - 365 * day;
    // Wall-clock "now" a year after the last event: ages still count from that event.
    const t = trendingScores(3, [0, 1, 2], [1, 1, 1], [yearAgo, yearAgo - 7 * day, yearAgo - 20 * 365 * day], 7, Date.now() / 1000);
    expect(t[0]).toBe(1);
    expect(t[1]).toBeCloseTo(0.5, 5);
    // Twenty years older than the top: e^-723 would be 0 in float64; it stays positive and last.
    expect(t[2]).toBeGreaterThan(0);
    expect(t[2]).toBeLessThan(t[1]);
    // The anchor caps the reference time: a future-dated event counts as new, without making everything else old.
    const capped = trendingScores(2, [0, 1], [1, 1], [0, 100 * day], 7, 7 * day);
    expect(capped[0]).toBeCloseTo(0.5, 5);
    expect(capped[1]).toBe(1);
  });
  it("weights the newest interaction most", () => {
    const w = recencyWeights([10, 30, 20], [1, 1, 2], 1, 0.5);
    expect(w[1]).toBeCloseTo(1, 6);
    expect(w[2]).toBeCloseTo(2 * (0.5 + 0.5 * Math.exp(-1)), 6);
    expect(w[0]).toBeCloseTo(0.5 + 0.5 * Math.exp(-2), 6);
    expect([...recencyWeights([1, 2], [3, 4], 0, 0)]).toEqual([3, 4]);
  });
});

describe("recommender", () => {
  const data = {
    users: 6, items: 4, user: Int32Array.from(U), item: Int32Array.from(I), weight: new Float32Array(U.length).fill(1),
    time: Float64Array.from(U, (_, k) => 1000 + k), now: 2000, tokens: [["g:A"], ["g:A"], ["g:B"], ["g:B"]],
  };
  it("recommends the co-watched item and, for a cold user, genre-aware trending", () => {
    const model = trainRecommender(data, { ...DEFAULT_TRAIN, lambda: 1 });
    const warm = scoreUser(model, { items: [2], values: [1], times: [0] }, "hybrid");
    expect(topK(warm, 1, { exclude: Uint8Array.from([0, 0, 1, 0]) }).indices[0]).toBe(3);
    const cold = scoreUser(model, { items: [], values: [], times: [], extraTokens: new Map([["g:B", 1]]) }, "hybrid");
    expect(topK(cold, 2).indices[0]).toBe(2);
    expect(scoreUser(model, { items: [], values: [], times: [] }, "collaborative").every((s) => s === 0)).toBe(true);
  });
  it("never gives a movie itself as the reason (regression: a watchlisted movie read 'Because you liked' its own title)", () => {
    const model = trainRecommender(data, { ...DEFAULT_TRAIN, lambda: 1 });
    const pick = createReasonPicker(model, { items: [2, 3], values: [2, 1], times: [10, 5] });
    expect(pick("hybrid", 3)).toBe(2);
    expect(pick("hybrid", 2)).not.toBe(2);
  });
  it("lets a dislike push similar items down", () => {
    const model = trainRecommender(data, { ...DEFAULT_TRAIN, lambda: 1 });
    const liked = scoreUser(model, { items: [0], values: [1], times: [0] }, "collaborative");
    const disliked = scoreUser(model, { items: [0], values: [-1], times: [0] }, "collaborative");
    expect(disliked[1]).toBeLessThan(liked[1]);
  });
  it("scores all four algorithms at once exactly as one at a time (what the batch job relies on)", () => {
    const model = trainRecommender(data, { ...DEFAULT_TRAIN, lambda: 1 });
    for (const history of [
      { items: [0, 2], values: [1, -1], times: [5, 1] },
      { items: [], values: [], times: [], extraTokens: new Map([["g:B", 1]]) },
    ]) {
      const all = scoreAllAlgorithms(model, history);
      for (const a of ALGORITHMS) expect([...all[a]]).toEqual([...scoreUser(model, history, a)]);
    }
  });
});

describe("evaluation", () => {
  it("computes NDCG, recall, hit rate and coverage with binary gains", () => {
    const m = new MetricsAccumulator(3, 10);
    m.add([5, 1, 2], new Set([1, 9])); // hit at rank 2: dcg = 1/log2(3); idcg = 1 + 1/log2(3)
    m.add([3, 4, 6], new Set([7]));
    const r = m.result();
    expect(r.ndcg).toBeCloseTo((1 / Math.log2(3) / (1 + 1 / Math.log2(3))) / 2, 10);
    expect(r.recall).toBeCloseTo(0.5 / 2, 10);
    expect(r.hitRate).toBe(0.5);
    expect(r.coverage).toBeCloseTo(0.6, 10);
  });
  it("holds out each user's latest 20% (at least one) and drops users below the minimum", () => {
    const s = temporalSplit(
      { user: Int32Array.from([0, 0, 0, 0, 0, 1, 1]), item: Int32Array.from([1, 2, 3, 4, 5, 1, 2]), time: Float64Array.from([5, 1, 4, 2, 3, 1, 2]) },
      { minInteractions: 5, testFraction: 0.2 },
    );
    expect([...s.test.item]).toEqual([1]);
    expect([...s.train.item].sort()).toEqual([2, 3, 4, 5]);
  });
});
