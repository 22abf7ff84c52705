/**
 * Item–item similar movies from the trained model: the movie's item-kNN neighbours (co-interaction cosine) blended
 * with its content neighbours (TF-IDF cosine over genres, keywords, cast, director, language, overview), so a movie
 * nobody has watched yet still has similar movies through its content.
 */
import type { Recommender } from "./algorithms/recommender.ts";
import { topK } from "./algorithms/top-k.ts";

/** Weight of content similarity next to co-interaction similarity (each in [0, 1]). */
const CONTENT_WEIGHT = 0.5;

export interface SimilarItem {
  item: number;
  /** In (0, 1], relative to the best neighbour. */
  score: number;
  /** Which part dominated: "together" (people who watched one watched the other) or "content". */
  basis: "together" | "content";
}

/** The `k` items most similar to `item` (never itself). */
export function similarItems(model: Recommender, item: number, k: number): SimilarItem[] {
  const n = model.items;
  const knn = new Float32Array(n);
  const { indptr, indices, data } = model.knn;
  let knnMax = 0;
  for (let p = indptr[item]; p < indptr[item + 1]; p++) knnMax = Math.max(knnMax, data[p]);
  for (let p = indptr[item]; p < indptr[item + 1]; p++) knn[indices[p]] = data[p] / knnMax;
  const content = new Float32Array(n);
  const c = model.content;
  if (c) {
    // Cosine of L2-normalised rows: walk the item's features' posting lists.
    for (let p = c.items.indptr[item]; p < c.items.indptr[item + 1]; p++) {
      const f = c.items.indices[p];
      const w = c.items.data[p];
      for (let q = c.byFeature.indptr[f]; q < c.byFeature.indptr[f + 1]; q++) content[c.byFeature.indices[q]] += w * c.byFeature.data[q];
    }
  }
  const total = new Float32Array(n);
  for (let j = 0; j < n; j++) total[j] = knn[j] + CONTENT_WEIGHT * content[j];
  total[item] = 0;
  const best = topK(total, k, { floor: 0 });
  const top = best.scores[0] ?? 1;
  return Array.from(best.indices, (j, r) => ({ item: j, score: best.scores[r] / top, basis: knn[j] >= CONTENT_WEIGHT * content[j] ? "together" : "content" }));
}
