/** Grid search of the hybrid's parameters on a validation split (coordinate-wise, to stay within seconds). */
import { scoreUser, type Recommender } from "../modules/recommendation/algorithms/recommender.ts";
import type { HybridParams } from "../modules/recommendation/algorithms/hybrid.ts";
import { evaluate, historyOf, type EvalSet } from "./evaluate.ts";

const GRID: { [K in keyof HybridParams]: number[] } = {
  tau: [5, 10, 20, 40, 0],
  floor: [0, 0.02, 0.05, 0.1, 0.2],
  ease: [1],
  knn: [0, 0.1, 0.3, 0.6, 1],
  content: [0, 0.05, 0.1, 0.2],
  trending: [0, 0.02, 0.05, 0.1, 0.2],
};

/** Best parameters by validation NDCG@10, two passes of coordinate ascent from the model's defaults. */
export function tuneHybrid(model: Recommender, set: EvalSet): { params: HybridParams; ndcg: number } {
  const run = (p: HybridParams) => evaluate(set, (u, ex) => scoreUser(model, historyOf(set, u), "hybrid", ex, p)).ndcg;
  let best = { ...model.params };
  let bestNdcg = run(best);
  for (let pass = 0; pass < 2; pass++) {
    for (const key of Object.keys(GRID) as (keyof HybridParams)[]) {
      for (const value of GRID[key]) {
        if (value === best[key]) continue;
        const candidate = { ...best, [key]: value };
        const ndcg = run(candidate);
        if (ndcg > bestNdcg) {
          best = candidate;
          bestNdcg = ndcg;
        }
      }
    }
  }
  return { params: best, ndcg: bestNdcg };
}
