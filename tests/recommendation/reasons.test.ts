// The reason picker's one-pass content similarities (reasons.ts) against the plain definition: for each liked
// item, kNN similarity or else half the content cosine, times the like's weight; the first best wins.
import { describe, expect, it } from "vitest";
import { DEFAULT_TRAIN, trainRecommender, type Recommender } from "../../src/modules/recommendation/algorithms/recommender.ts";
import { contentSimilarity } from "../../src/modules/recommendation/algorithms/content.ts";
import { createReasonPicker } from "../../src/modules/recommendation/reasons.ts";

const ITEMS = 300;
function model(): Recommender {
  let s = 3;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const tokens = Array.from({ length: ITEMS }, () => [`g:${Math.floor(rnd() * 8)}`, `c:${Math.floor(rnd() ** 2 * 60)}`, ...Array.from({ length: 6 }, () => `w:${Math.floor(rnd() ** 2 * 200)}`)]);
  const user: number[] = [];
  const item: number[] = [];
  for (let u = 0; u < 200; u++) for (const i of new Set(Array.from({ length: 12 }, () => Math.floor(rnd() ** 2 * ITEMS)))) (user.push(u), item.push(i));
  return trainRecommender(
    { users: 200, items: ITEMS, user: Int32Array.from(user), item: Int32Array.from(item), weight: new Float32Array(user.length).fill(1), time: Float64Array.from(user, (_, k) => k), tokens, now: user.length },
    { ...DEFAULT_TRAIN, maxItems: 100 },
  );
}

/** The definition, with one sorted merge per (liked item, candidate). */
function reference(m: Recommender, history: { items: number[]; values: number[]; times: number[] }, algorithm: string, j: number): number {
  if (algorithm === "trending") return -1;
  const liked = history.items.map((_, h) => h).filter((h) => history.values[h] > 0).sort((a, b) => history.times[b] - history.times[a]).slice(0, 10);
  let best = -1;
  let bestScore = 0;
  for (const h of liked) {
    const a = history.items[h];
    if (a === j) continue;
    let sim = 0;
    if (algorithm !== "content_based") for (let p = m.knn.indptr[a]; p < m.knn.indptr[a + 1]; p++) if (m.knn.indices[p] === j) sim = m.knn.data[p];
    if (sim === 0 && m.content) sim = 0.5 * contentSimilarity(m.content, a, j);
    sim *= history.values[h];
    if (sim > bestScore) [bestScore, best] = [sim, a];
  }
  return best;
}

describe("reason picker", () => {
  it("picks what the definition picks, for every candidate and algorithm, with pickers of two users interleaved", () => {
    const m = model();
    const first = { items: [3, 10, 40, 41, 77, 150, 151, 152, 200, 250, 260, 299], values: [1, 2, -1, 1, 3, 1, 1, 2, 1, 1, 1, 1], times: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] };
    const second = { items: [0, 5, 9, 120], values: [1, 1, 2, 1], times: [4, 3, 2, 1] };
    const pickFirst = createReasonPicker(m, first);
    const pickSecond = createReasonPicker(m, second); // takes the shared feature table from the first
    let named = 0;
    for (const algorithm of ["collaborative", "content_based", "hybrid", "trending"] as const) {
      for (let j = 0; j < ITEMS; j++) {
        const a = pickFirst(algorithm, j);
        expect(a).toBe(reference(m, first, algorithm, j));
        expect(pickSecond(algorithm, j)).toBe(reference(m, second, algorithm, j));
        if (a >= 0) named++;
      }
    }
    expect(named).toBeGreaterThan(100); // most candidates get a reason: the comparison is not between two -1s
  });
});
