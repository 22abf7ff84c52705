/**
 * A user's top-k list per algorithm, exactly what `topK(scoreAllAlgorithms(...)[a], k, { exclude, floor: 0 })` gives
 * (tests/recommendation/top-lists.test.ts compares them bit for bit), without most of its passes over the catalogue:
 * at 50,000 movies the dense path made about 25 passes of 50,000 entries per user, and batch scoring spent most of its
 * time there. What differs:
 * - trending is one list for everyone: its items are sorted once per model, and a user's list is the first k of that
 *   order they have not seen;
 * - EASE scores only its own items (2,500 of 50,000): scaled and ranked over those, not over a dense array of zeros;
 * - the kNN part enters no list when its blend weight is 0 (the default), so it is not computed then.
 * Content scores stay dense (any movie may share a feature with the profile), and the hybrid with them.
 */
import type { AlgorithmName, Recommender, UserHistory } from "./recommender.ts";
import { addScaled, recencyWeights, scaleToMax, type HybridParams } from "./hybrid.ts";
import { scoreContent } from "./content.ts";
import { scoreItemKnn } from "./item-knn.ts";
import { topK, TopKHeap, type TopK } from "./top-k.ts";
import { easeFold } from "./ease-fold.ts";

/** Buffers reused across the users of a batch (results never point into them). */
export interface TopListScratch {
  readonly content: Float32Array;
  readonly hybrid: Float32Array;
  readonly dense: Float32Array;
  readonly ease: Float32Array;
}

export function createTopListScratch(model: Recommender): TopListScratch {
  return { content: new Float32Array(model.items), hybrid: new Float32Array(model.items), dense: new Float32Array(model.items), ease: new Float32Array(model.ease.items.length) };
}

const EMPTY: TopK = { indices: new Int32Array(0), scores: new Float32Array(0) };

/** The k best unseen items of each algorithm, best first, scores scaled as the dense path scales them. */
export function topLists(
  model: Recommender,
  history: UserHistory,
  exclude: Uint8Array,
  k: number,
  params: HybridParams = model.params,
  scratch: TopListScratch = createTopListScratch(model),
): Record<AlgorithmName, TopK> {
  const values = recencyWeights(history.times, history.values, params.tau, params.floor, history.items);
  const hasHistory = history.items.length > 0;
  const hasExtra = history.extraTokens !== undefined && history.extraTokens.size > 0;
  const trending = trendingList(model, exclude, k);
  let content: Float32Array | null = null;
  if (hasHistory || hasExtra) {
    content = scratch.content.fill(0);
    if (model.content) scoreContent(model.content, history.items, values, content, history.extraTokens);
  }
  const hybrid = scratch.hybrid;

  if (!hasHistory) {
    // Cold start: trending steered by favourite genres (what hybridInto does without a collaborative part).
    if (content) scaleToMax(content, exclude);
    trendingPart(model, exclude, hybrid);
    if (content) addScaled(hybrid, content, 1);
    return { collaborative: EMPTY, content_based: content ? topK(content, k, { exclude, floor: 0 }) : EMPTY, trending: trending.list, hybrid: topK(hybrid, k, { exclude, floor: 0 }) };
  }

  // EASE over its own items: the dense part is zero everywhere else, so its scale and its ranking are the same.
  const ease = model.ease;
  const acc = easeFold(ease, history.items, values, scratch.ease);
  const n = ease.items.length;
  let max = 0;
  for (let q = 0; q < n; q++) if (exclude[ease.items[q]] === 0 && acc[q] > max) max = acc[q];
  if (max > 0) for (let q = 0; q < n; q++) acc[q] /= max;
  const contentScores = content!;
  if (params.knn === 0) {
    return { ...fusedLists(model, contentScores, acc, exclude, k, params, trending.max), collaborative: topK(acc, k, { exclude, floor: 0, indices: ease.items }), trending: trending.list };
  }

  // With a kNN part: the hybrid, term by term in hybridInto's order (each sum rounded to float32 as there).
  scaleToMax(contentScores, exclude);
  hybrid.fill(0);
  for (let q = 0; q < n; q++) hybrid[ease.items[q]] = acc[q];
  const knn = scratch.dense.fill(0);
  scoreItemKnn(model.knn, history.items, values, knn);
  scaleToMax(knn, exclude);
  addScaled(hybrid, knn, params.knn);
  // The collaborative list is the hybrid so far (EASE plus weighted kNN).
  const collaborative = topK(hybrid, k, { exclude, floor: 0 });
  addScaled(hybrid, contentScores, params.content);
  if (params.trending !== 0) addScaled(hybrid, trendingPart(model, exclude, scratch.dense), params.trending);
  return { collaborative, content_based: topK(contentScores, k, { exclude, floor: 0 }), trending: trending.list, hybrid: topK(hybrid, k, { exclude, floor: 0 }) };
}

/**
 * Without a kNN part (the default blend), the content list and the hybrid in one pass over the catalogue instead of
 * seven to eleven (scale, rank, clear, add, add the trending part, rank): per item, the same float32 operations in the
 * same order as scaleToMax, hybridInto's sums and topK, so the same lists to the bit.
 */
function fusedLists(model: Recommender, content: Float32Array, ease: Float32Array, exclude: Uint8Array, k: number, params: HybridParams, trendMax: number) {
  let cmax = 0;
  for (let j = 0; j < content.length; j++) if (exclude[j] === 0 && content[j] > cmax) cmax = content[j];
  const position = model.ease.position;
  const trend = model.trending;
  const wc = params.content;
  const wt = params.trending;
  const contentTop = new TopKHeap(k);
  const hybridTop = new TopKHeap(k);
  // Most items are outside EASE's and score too little for either list once both are full. Without a trending part
  // and with a non-negative content weight, such an item's hybrid is fround(wc · c), so both lists' entry bars bound
  // its raw content score from below (with a 2^-16 margin over the two float32 roundings): below both, it is skipped
  // without its division. Negative or zero raw scores can enter neither list.
  const prefilter = wt === 0 && wc >= 0 && cmax > 0;
  const MARGIN = 1 - 2 ** -16;
  let skipBelow = 0;
  const raise = () => {
    const c = contentTop.floorScore > 0 ? contentTop.floorScore * cmax * MARGIN : 0;
    const h = wc === 0 ? Infinity : hybridTop.floorScore > 0 ? (hybridTop.floorScore / wc) * cmax * MARGIN : 0;
    skipBelow = Math.min(c, h);
  };
  for (let j = 0; j < content.length; j++) {
    if (exclude[j] !== 0) continue;
    const raw = content[j];
    const q = position[j];
    if (prefilter && q < 0 && (raw <= 0 || raw < skipBelow)) continue;
    const c = cmax > 0 ? Math.fround(raw / cmax) : raw;
    let h = q >= 0 ? ease[q] : 0;
    if (wc !== 0) h = Math.fround(h + wc * c);
    if (wt !== 0) h = Math.fround(h + wt * (trendMax > 0 ? Math.fround(trend[j] / trendMax) : trend[j]));
    let offered = false;
    if (c > 0 && c >= contentTop.floorScore && c !== Infinity) {
      contentTop.offer(c, j);
      offered = true;
    }
    if (h > 0 && h >= hybridTop.floorScore && h !== Infinity) {
      hybridTop.offer(h, j);
      offered = true;
    }
    if (offered && prefilter) raise();
  }
  return { content_based: contentTop.result(), hybrid: hybridTop.result() };
}

/** Per model: the items with a positive trend, best first, ties to the lower index. */
const trendingOrders = new WeakMap<Recommender, Int32Array>();
function trendingOrder(model: Recommender): Int32Array {
  let order = trendingOrders.get(model);
  if (!order) {
    const t = model.trending;
    const items: number[] = [];
    for (let j = 0; j < t.length; j++) if (t[j] > 0) items.push(j);
    items.sort((a, b) => t[b] - t[a] || a - b);
    trendingOrders.set(model, (order = Int32Array.from(items)));
  }
  return order;
}

/** The trending part scaled to max 1 over unseen items, into `out` (what the dense path's trending array holds). */
function trendingPart(model: Recommender, exclude: Uint8Array, out: Float32Array): Float32Array {
  out.set(model.trending);
  return scaleToMax(out, exclude);
}

/**
 * The first k unseen items of the trending order, scored as the scaled dense part would be. Scaling can round two
 * neighbouring trends to one float32, which topK would then order by index: the run of ties at the cut is taken
 * whole and re-ordered the same way.
 */
function trendingList(model: Recommender, exclude: Uint8Array, k: number): { list: TopK; max: number } {
  const order = trendingOrder(model);
  const t = model.trending;
  let max = 0;
  const picked: number[] = [];
  const scores: number[] = [];
  for (let p = 0; p < order.length; p++) {
    const j = order[p];
    if (exclude[j] !== 0) continue;
    if (max === 0) max = t[j];
    const s = Math.fround(t[j] / max);
    if (picked.length >= k && s !== scores[scores.length - 1]) break;
    picked.push(j);
    scores.push(s);
  }
  const idx = Array.from(picked.keys()).sort((a, b) => scores[b] - scores[a] || picked[a] - picked[b]).slice(0, k);
  // The first unseen item of the order has the largest trend: scaleToMax's max of the trending part.
  return { list: { indices: Int32Array.from(idx, (x) => picked[x]), scores: Float32Array.from(idx, (x) => scores[x]) }, max };
}
