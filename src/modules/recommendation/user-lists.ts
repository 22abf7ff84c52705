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

/**
 * A batch's lists as typed arrays: per (user, algorithm), in ALGORITHMS order, the list's length and whether the
 * favourite-genres reason applies; the lists' items, scores and reasons (item index or -1) concatenated. What a
 * scoring thread sends back — its buffers transferred, not copied, and no string made twice: the movie ids are the
 * model's own strings, looked up where the lists are written (unpackLists).
 */
export interface PackedLists {
  userIds: string[];
  lengths: Int32Array;
  genresOnly: Uint8Array;
  items: Int32Array;
  scores: Float64Array;
  because: Int32Array;
}

/**
 * Collects users' lists into a PackedLists, straight into typed arrays that double when full: pushing 1,200 numbers
 * per user onto JS arrays (then copied into typed arrays) was a sixth of a scoring thread's time.
 */
export class ListPacker {
  readonly #userIds: string[] = [];
  #lengths = new Int32Array(64);
  #genresOnly = new Uint8Array(64);
  #lists = 0;
  #items = new Int32Array(4096);
  #scores = new Float64Array(4096);
  #because = new Int32Array(4096);
  #size = 0;

  /** Adds the user's lists (one per algorithm, best first, scores in [0, 1]) and their reasons. */
  add(stored: StoredModel, userId: string, state: UserState, topN: number, scratch: UserListsScratch): void {
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
    this.#userIds.push(userId);
    this.#reserve(ALGORITHMS.length, ALGORITHMS.reduce((n, a) => n + tops[a].indices.length, 0));
    for (const algorithm of ALGORITHMS) {
      const best = tops[algorithm];
      // Relative to the user's best candidate of this algorithm.
      const top = best.scores[0] ?? 1;
      const n = best.indices.length;
      this.#lengths[this.#lists] = n;
      this.#genresOnly[this.#lists++] = genresOnly && algorithm !== "trending" ? 1 : 0;
      const items = this.#items;
      const scores = this.#scores;
      const because = this.#because;
      let at = this.#size;
      for (let k = 0; k < n; k++, at++) {
        const j = best.indices[k];
        items[at] = j;
        scores[at] = Math.min(1, Math.max(0, best.scores[k] / top));
        because[at] = pick(algorithm, j);
      }
      this.#size = at;
    }
  }

  /** Room for `lists` more lists of `items` items in all. */
  #reserve(lists: number, items: number): void {
    if (this.#lists + lists > this.#lengths.length) {
      const cap = Math.max(2 * this.#lengths.length, this.#lists + lists);
      this.#lengths = grown(this.#lengths, new Int32Array(cap));
      this.#genresOnly = grown(this.#genresOnly, new Uint8Array(cap));
    }
    if (this.#size + items > this.#items.length) {
      const cap = Math.max(2 * this.#items.length, this.#size + items);
      this.#items = grown(this.#items, new Int32Array(cap));
      this.#scores = grown(this.#scores, new Float64Array(cap));
      this.#because = grown(this.#because, new Int32Array(cap));
    }
  }

  done(): PackedLists {
    return {
      userIds: this.#userIds,
      lengths: this.#lengths.slice(0, this.#lists),
      genresOnly: this.#genresOnly.slice(0, this.#lists),
      items: this.#items.slice(0, this.#size),
      scores: this.#scores.slice(0, this.#size),
      because: this.#because.slice(0, this.#size),
    };
  }
}

function grown<T extends Int32Array | Uint8Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** The typed arrays' buffers, to transfer a PackedLists to another thread. */
export const packedBuffers = (p: PackedLists): ArrayBuffer[] => [p.lengths.buffer, p.genresOnly.buffer, p.items.buffer, p.scores.buffer, p.because.buffer] as ArrayBuffer[];

/** The lists and reasons the write step takes, movie ids from the model. */
export function unpackLists(stored: StoredModel, p: PackedLists): BatchLists {
  const out: BatchLists = { lists: [], reasons: [], items: 0 };
  let at = 0;
  for (let u = 0; u < p.userIds.length; u++) {
    const userId = p.userIds[u];
    for (let a = 0; a < ALGORITHMS.length; a++) {
      const slot = u * ALGORITHMS.length + a;
      const n = p.lengths[slot];
      const movieIds: string[] = new Array(n);
      const scores: number[] = new Array(n);
      const because: number[] = new Array(n);
      for (let k = 0; k < n; k++, at++) {
        movieIds[k] = stored.movieIds[p.items[at]];
        scores[k] = p.scores[at];
        because[k] = p.because[at];
      }
      const algorithm = ALGORITHMS[a];
      out.lists.push({ userId, algorithm, movieIds, scores });
      out.items += n;
      out.reasons.push({ userId, algorithm, movieIds, because, ...(p.genresOnly[slot] ? { fallback: "Popular in your favourite genres" } : {}) });
    }
  }
  return out;
}
