/**
 * The whole model, trained in one call and scored per user: the code path shared by the scoring workers and
 * the offline evaluation. Items are dense indices 0..items-1; callers map them to movie ids.
 */
import { availableParallelism } from "node:os";
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
/** Interactions from which item-kNN training sweeps on several threads. */
const KNN_THREADED_ENTRIES = 200_000;

export function trainRecommender(data: TrainingData, opts: TrainOptions = DEFAULT_TRAIN): Recommender {
  const positive = Float32Array.from(data.weight, (w) => (w > 0 ? w : 0));
  const x = csrFromCoo(data.users, data.items, data.user, data.item, positive);
  const ease = trainEase(x, { lambda: opts.lambda, maxItems: opts.maxItems });
  // On every core once the sweep is worth a thread's start-up (tens of seconds at the design's volume, milliseconds
  // on the tests' data).
  const threads = x.indptr[x.rows] >= KNN_THREADED_ENTRIES ? availableParallelism() : 1;
  const knn = trainItemKnn(x, { k: opts.knnK, shrink: opts.knnShrink, threads });
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
  // The workers' own path (scoreAllAlgorithms), so what the evaluation scores is what users are served.
  return scoreAllAlgorithms(model, history, exclude, params)[algorithm];
}

/** Each algorithm's part of one user's scores, each scaled to max 1 over the non-excluded items (before blending). */
export interface ScoreParts {
  /** Null without history (nothing to fold in). */
  ease: Float32Array | null;
  knn: Float32Array | null;
  /** Null when neither history nor favourite genres exist. */
  content: Float32Array | null;
  trending: Float32Array;
}

/**
 * The parts that depend on the recency parameters (tau, floor) but not on the blend weights: what scoring computes
 * once per user and the tuner (src/eval/tune.ts) once per recency setting, trying every blend on the same parts.
 */
export function scoreParts(
  model: Recommender,
  history: UserHistory,
  exclude: Uint8Array | undefined,
  recency: Pick<HybridParams, "tau" | "floor">,
): ScoreParts {
  const values = recencyWeights(history.times, history.values, recency.tau, recency.floor, history.items);
  const hasHistory = history.items.length > 0;
  const part = (fill: (out: Float32Array) => void) => {
    const out = new Float32Array(model.items);
    fill(out);
    return scaleToMax(out, exclude);
  };
  const trending = part((out) => out.set(model.trending));
  const content = hasHistory || hasExtra(history) ? part((out) => model.content && scoreContent(model.content, history.items, values, out, history.extraTokens)) : null;
  if (!hasHistory) return { ease: null, knn: null, content, trending };
  return { ease: part((o) => scoreEase(model.ease, history.items, values, o)), knn: part((o) => scoreItemKnn(model.knn, history.items, values, o)), content, trending };
}

/** The collaborative list (EASE plus weighted kNN) and the hybrid from a user's parts (new arrays). */
export function combineParts(parts: ScoreParts, params: HybridParams, items: number): { collaborative: Float32Array; hybrid: Float32Array } {
  let collaborative = new Float32Array(items);
  if (parts.ease && parts.knn) {
    collaborative = parts.ease.slice();
    addScaled(collaborative, parts.knn, params.knn);
  }
  return { collaborative, hybrid: hybridInto(new Float32Array(items), parts, params) };
}

/**
 * Writes the hybrid of a user's parts into `out` (the tuner reuses one buffer for every blend it tries). Cold start
 * (no collaborative part): favourite genres steer trending.
 */
export function hybridInto(out: Float32Array, parts: ScoreParts, params: HybridParams): Float32Array {
  if (!parts.ease || !parts.knn) {
    out.set(parts.trending);
    if (parts.content) addScaled(out, parts.content, 1);
    return out;
  }
  out.set(parts.ease);
  addScaled(out, parts.knn, params.knn);
  if (parts.content) addScaled(out, parts.content, params.content);
  addScaled(out, parts.trending, params.trending);
  return out;
}

/**
 * All four algorithms' scores for one user, each part computed once (the hybrid reuses the others): the dense
 * definition the offline evaluation scores and batch scoring's topLists (top-lists.ts) reproduces to the bit.
 */
export function scoreAllAlgorithms(
  model: Recommender,
  history: UserHistory,
  exclude?: Uint8Array,
  params: HybridParams = model.params,
): Record<AlgorithmName, Float32Array> {
  const parts = scoreParts(model, history, exclude, params);
  const { collaborative, hybrid } = combineParts(parts, params, model.items);
  return { collaborative, content_based: parts.content ?? new Float32Array(model.items), trending: parts.trending, hybrid };
}

const hasExtra = (h: UserHistory) => h.extraTokens !== undefined && h.extraTokens.size > 0;
