/** Top-N ranking metrics with binary gains, accumulated over users. */

export interface RankingMetrics {
  ndcg: number;
  recall: number;
  hitRate: number;
  coverage: number;
  users: number;
}

/** Accumulates NDCG@k, Recall@k (hits / min(k, |test|)), HR@k and catalogue coverage@k. */
export class MetricsAccumulator {
  readonly #k: number;
  readonly #catalogue: number;
  readonly #recommended = new Set<number>();
  #ndcg = 0;
  #recall = 0;
  #hits = 0;
  #users = 0;

  constructor(k: number, catalogueSize: number) {
    this.#k = k;
    this.#catalogue = catalogueSize;
  }

  /** Adds one user's ranked list (best first, at least k long unless the catalogue is smaller) and held-out items. */
  add(ranked: ArrayLike<number>, relevant: ReadonlySet<number>): void {
    const k = Math.min(this.#k, ranked.length);
    let dcg = 0;
    let hits = 0;
    for (let r = 0; r < k; r++) {
      this.#recommended.add(ranked[r]);
      if (relevant.has(ranked[r])) {
        dcg += 1 / Math.log2(r + 2);
        hits++;
      }
    }
    let idcg = 0;
    const ideal = Math.min(this.#k, relevant.size);
    for (let r = 0; r < ideal; r++) idcg += 1 / Math.log2(r + 2);
    this.#ndcg += idcg > 0 ? dcg / idcg : 0;
    this.#recall += ideal > 0 ? hits / ideal : 0;
    this.#hits += hits > 0 ? 1 : 0;
    this.#users++;
  }

  result(): RankingMetrics {
    const n = Math.max(1, this.#users);
    return {
      ndcg: this.#ndcg / n,
      recall: this.#recall / n,
      hitRate: this.#hits / n,
      coverage: this.#recommended.size / Math.max(1, this.#catalogue),
      users: this.#users,
    };
  }
}
