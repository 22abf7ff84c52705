/**
 * The compute step of batch scoring, without I/O: one user's top N per algorithm with the liked movie that explains
 * each item, from their history and the stored model. Runs on the worker's own thread (single rescores, small
 * batches) or in scoring threads (score-threads.ts) — the same function either way, so what a user is served does not
 * depend on where it ran.
 */
import { ALGORITHMS, type AlgorithmName } from "./algorithms/recommender.ts";
import { createTopListScratch, topLists, type TopListScratch } from "./algorithms/top-lists.ts";
import { itemIndexOf, type StoredModel } from "./model-artefact.ts";
import { createReasonPicker } from "./reasons.ts";
import type { ScoredList } from "./list-writer.ts";
import type { UserState } from "./training-data.ts";

/** The movie explaining each item of one list (an item index, -1 for none), before titles are looked up. */
export interface ListReasons {
  userId: string;
  algorithm: AlgorithmName;
  movieIds: string[];
  because: number[];
  fallback?: string;
}

/** What a batch's compute gives the write step. */
export interface BatchLists {
  lists: ScoredList[];
  reasons: ListReasons[];
  items: number;
}

/** Buffers reused from user to user of one thread. */
export interface UserListsScratch {
  exclude: Uint8Array;
  tops: TopListScratch;
}

export function createUserListsScratch(stored: StoredModel): UserListsScratch {
  return { exclude: new Uint8Array(stored.model.items), tops: createTopListScratch(stored.model) };
}

/** Adds the user's lists (one per algorithm, best first, scores in [0, 1]) and their reasons to `out`. */
export function addUserLists(stored: StoredModel, userId: string, state: UserState, topN: number, scratch: UserListsScratch, out: BatchLists): void {
  const index = itemIndexOf(stored);
  const { history, seen } = state;
  const exclude = scratch.exclude.fill(0);
  for (const m of seen) {
    const i = index.get(m);
    if (i !== undefined) exclude[i] = 1;
  }
  const tops = topLists(stored.model, history, exclude, topN, stored.model.params, scratch.tops);
  const pick = createReasonPicker(stored.model, history);
  // Without anything liked yet, favourite genres are what steers the lists.
  const genresOnly = !Array.from(history.values).some((v) => v > 0) && (history.extraTokens?.size ?? 0) > 0;
  for (const algorithm of ALGORITHMS) {
    const best = tops[algorithm];
    // Relative to the user's best candidate of this algorithm.
    const top = best.scores[0] ?? 1;
    const n = best.indices.length;
    const movieIds: string[] = new Array(n);
    const scores: number[] = new Array(n);
    const because: number[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const j = best.indices[k];
      movieIds[k] = stored.movieIds[j];
      scores[k] = Math.min(1, Math.max(0, best.scores[k] / top));
      because[k] = pick(algorithm, j);
    }
    out.lists.push({ userId, algorithm, movieIds, scores });
    out.items += n;
    out.reasons.push({ userId, algorithm, movieIds, because, ...(genresOnly && algorithm !== "trending" ? { fallback: "Popular in your favourite genres" } : {}) });
  }
}
