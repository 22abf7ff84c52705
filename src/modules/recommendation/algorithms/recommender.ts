/**
 * The whole model, trained in one call and scored per user: the code path shared by the scoring workers and
 * the offline evaluation. Items are dense indices 0..items-1; callers map them to movie ids.
 */
import { csrFromCoo, type Csr } from "./csr.ts";
import { scoreEase, trainEase, type EaseModel } from "./ease.ts";
import { scoreItemKnn, trainItemKnn } from "./item-knn.ts";
import { scoreContent, trainContent, type ContentModel } from "./content.ts";
import { trendingScores } from "./trending.ts";
import { addScaled, DEFAULT_HYBRID, recencyWeights, scaleToMax, type HybridParams } from "./hybrid.ts";

export const ALGORITHMS = ["collaborative", "content_based", "trending", "hybrid"] as const;
export type AlgorithmName = (typeof ALGORITHMS)[number];

export interface TrainingData {
  readonly users: number;
  readonly items: number;
  /** One entry per (user, item): the summed interaction weight (may be negative) and the latest time (unix s). */
  readonly user: Int32Array;
  readonly item: Int32Array;
  readonly weight: Float32Array;
  readonly time: Float64Array;
  /** Content tokens per item; empty lists when unknown. */
  readonly tokens?: readonly (readonly (string | readonly [string, number])[])[];
  /** "Now" for trending, unix seconds: an upper bound; trending ages are measured from the latest interaction before it. */
  readonly now: number;
}

export interface TrainOptions {
  lambda: number;
  maxItems: number;
  knnK: number;
  knnShrink: number;
  trendingHalfLifeDays: number;
  hybrid: HybridParams;
}

export const DEFAULT_TRAIN: TrainOptions = { lambda: 500, maxItems: 2500, knnK: 100, knnShrink: 10, trendingHalfLifeDays: 7, hybrid: DEFAULT_HYBRID };

export interface Recommender {
  readonly items: number;
  readonly ease: EaseModel;
  /** Item × item top-k cosine neighbours. */
  readonly knn: Csr;
  readonly content: ContentModel | null;
  /** Per-item trend in [0, 1]. */
  readonly trending: Float32Array;
  /** Per-item interaction count in the training data (popularity, tie-breaks). */
  readonly popularity: Float32Array;
  readonly params: HybridParams;
}

/** A user's history for scoring: signed weights (dislikes negative) and times (unix s). */
export interface UserHistory {
  readonly items: ArrayLike<number>;
  readonly values: ArrayLike<number>;
  readonly times: ArrayLike<number>;
  /** Content features added to the profile, such as `g:Science Fiction` for favourite genres. */
  readonly extraTokens?: ReadonlyMap<string, number>;
}

/** Fits every algorithm on the training data. Negative weights do not enter the collaborative models. */
export function trainRecommender(data: TrainingData, opts: TrainOptions = DEFAULT_TRAIN): Recommender {
  const positive = Float32Array.from(data.weight, (w) => (w > 0 ? w : 0));
  const x = csrFromCoo(data.users, data.items, data.user, data.item, positive);
  const ease = trainEase(x, { lambda: opts.lambda, maxItems: opts.maxItems });
  const knn = trainItemKnn(x, { k: opts.knnK, shrink: opts.knnShrink });
  const content = data.tokens && data.tokens.some((t) => t.length > 0) ? trainContent(data.tokens) : null;
  const trending = trendingScores(data.items, data.item, positive, data.time, opts.trendingHalfLifeDays, data.now);
  const popularity = new Float32Array(data.items);
  for (let k = 0; k < data.item.length; k++) if (positive[k] > 0) popularity[data.item[k]] += 1;
  return { items: data.items, ease, knn, content, trending, popularity, params: opts.hybrid };
}

/**
 * Scores every item for one user with one algorithm (fold-in: no retraining). Higher is better; callers exclude
 * what the user has seen. `exclude` only keeps excluded items from setting the scale of each part.
 */
export function scoreUser(model: Recommender, history: UserHistory, algorithm: AlgorithmName, exclude?: Uint8Array, params: HybridParams = model.params): Float32Array {
  const n = model.items;
  const values = recencyWeights(history.times, history.values, params.tau, params.floor, history.items);
  const hasHistory = history.items.length > 0;
  const part = (fill: (out: Float32Array) => void) => {
    const out = new Float32Array(n);
    fill(out);
    return scaleToMax(out, exclude);
  };
  const trend = () => part((out) => out.set(model.trending));
  const content = () => part((out) => model.content && scoreContent(model.content, history.items, values, out, history.extraTokens));
  const collaborative = () => {
    const out = part((o) => scoreEase(model.ease, history.items, values, o));
    addScaled(out, part((o) => scoreItemKnn(model.knn, history.items, values, o)), params.knn);
    return out;
  };
  switch (algorithm) {
    case "trending":
      return trend();
    case "content_based":
      return content();
    case "collaborative":
      return hasHistory ? collaborative() : new Float32Array(n);
    case "hybrid":
      return blend(hasHistory ? collaborative() : null, hasHistory || hasExtra(history) ? content() : null, trend(), params);
  }
}

/**
 * All four algorithms' scores for one user, each part computed once (the hybrid reuses the others): what the
 * scoring workers call, about half the work of four `scoreUser` calls.
 */
export function scoreAllAlgorithms(model: Recommender, history: UserHistory, exclude?: Uint8Array, params: HybridParams = model.params): Record<AlgorithmName, Float32Array> {
  const values = recencyWeights(history.times, history.values, params.tau, params.floor, history.items);
  const hasHistory = history.items.length > 0;
  const part = (fill: (out: Float32Array) => void) => {
    const out = new Float32Array(model.items);
    fill(out);
    return scaleToMax(out, exclude);
  };
  const trending = part((out) => out.set(model.trending));
  const content = part((out) => model.content && scoreContent(model.content, history.items, values, out, history.extraTokens));
  let collaborative: Float32Array = new Float32Array(model.items);
  if (hasHistory) {
    collaborative = part((o) => scoreEase(model.ease, history.items, values, o));
    addScaled(collaborative, part((o) => scoreItemKnn(model.knn, history.items, values, o)), params.knn);
  }
  const hybrid = blend(hasHistory ? collaborative : null, hasHistory || hasExtra(history) ? content : null, trending, params);
  return { collaborative, content_based: content, trending, hybrid };
}

const hasExtra = (h: UserHistory) => h.extraTokens !== undefined && h.extraTokens.size > 0;

/** The hybrid from its parts (a new array). Cold start (no collaborative part): favourite genres steer trending. */
function blend(collaborative: Float32Array | null, content: Float32Array | null, trend: Float32Array, params: HybridParams): Float32Array {
  if (collaborative === null) {
    const out = trend.slice();
    if (content) addScaled(out, content, 1);
    return out;
  }
  const out = collaborative.slice();
  if (content) addScaled(out, content, params.content);
  addScaled(out, trend, params.trending);
  return out;
}
