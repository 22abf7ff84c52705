/**
 * Content-based scoring: TF-IDF item profiles over tokens (genres, keywords, cast, director, language, overview
 * words), L2-normalised, as a CSR items × features matrix; a user profile is the weighted sum of the profiles of
 * what they interacted with (dislikes subtract), and an item's score is its cosine with that profile.
 */
import { csrFromCoo, transpose, type Csr } from "./csr.ts";

export interface ContentModel {
  /** items × features, rows L2-normalised. */
  readonly items: Csr;
  /** features × items (the same matrix transposed) for scoring by inverted index. */
  readonly byFeature: Csr;
  readonly vocabulary: ReadonlyMap<string, number>;
}

/** Words of an overview worth indexing: lowercase, 3+ letters, no stop words. */
export function overviewTokens(text: string): string[] {
  return (text.toLowerCase().match(/[a-z][a-z']{2,}/g) ?? []).filter((w) => !STOP_WORDS.has(w)).map((w) => `w:${w}`);
}

/** Builds TF-IDF profiles; `tokens[i]` lists item i's tokens with an optional field weight (`token` or `[token, w]`). */
export function trainContent(tokens: readonly (readonly (string | readonly [string, number])[])[]): ContentModel {
  const vocabulary = new Map<string, number>();
  const r: number[] = [];
  const c: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    for (const t of tokens[i]) {
      const [tok, w] = typeof t === "string" ? [t, 1] : t;
      let f = vocabulary.get(tok);
      if (f === undefined) vocabulary.set(tok, (f = vocabulary.size));
      r.push(i);
      c.push(f);
      v.push(w);
    }
  }
  const tf = csrFromCoo(tokens.length, Math.max(1, vocabulary.size), r, c, v);
  const df = new Int32Array(tf.cols);
  for (let p = 0; p < tf.indices.length; p++) df[tf.indices[p]]++;
  const n = tokens.length;
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let p = tf.indptr[i]; p < tf.indptr[i + 1]; p++) {
      // Sub-linear term frequency: a keyword repeated in one overview is not ten times as telling.
      const w = (1 + Math.log(tf.data[p])) * Math.log((1 + n) / (1 + df[tf.indices[p]]));
      tf.data[p] = w;
      norm += w * w;
    }
    const s = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let p = tf.indptr[i]; p < tf.indptr[i + 1]; p++) tf.data[p] *= s;
  }
  return { items: tf, byFeature: transpose(tf), vocabulary };
}

/**
 * Adds each item's cosine with the user profile into `out`. `extra` adds feature weights directly (such as the
 * user's favourite genres, for users without history).
 */
export function scoreContent(
  model: ContentModel,
  items: ArrayLike<number>,
  values: ArrayLike<number>,
  out: Float32Array,
  extra: ReadonlyMap<string, number> = new Map(),
  maxFeatures = MAX_PROFILE_FEATURES,
): void {
  // The profile in a dense per-model scratch (a generation stamp instead of clearing), features in first-touch order:
  // what a Map gave, without a Map entry per feature per user (this runs for every user of a batch run).
  const scratch = profileScratch(model);
  const gen = ++scratch.generation;
  const { stamp, weight } = scratch;
  const touched: number[] = [];
  const add = (f: number, w: number) => {
    if (stamp[f] !== gen) {
      stamp[f] = gen;
      weight[f] = 0;
      touched.push(f);
    }
    weight[f] += w;
  };
  for (let h = 0; h < items.length; h++) {
    const i = items[h];
    if (i < 0 || i >= model.items.rows) continue;
    for (let p = model.items.indptr[i]; p < model.items.indptr[i + 1]; p++) add(model.items.indices[p], values[h] * model.items.data[p]);
  }
  for (const [tok, w] of extra) {
    const f = model.vocabulary.get(tok);
    if (f !== undefined) add(f, w);
  }
  let norm = 0;
  for (const f of touched) norm += weight[f] * weight[f];
  if (norm === 0) return;
  const s = 1 / Math.sqrt(norm);
  const bf = model.byFeature;
  for (const f of strongest(touched, weight, maxFeatures)) {
    const ws = weight[f] * s;
    for (let p = bf.indptr[f]; p < bf.indptr[f + 1]; p++) out[bf.indices[p]] += ws * bf.data[p];
  }
}

/** Per content model: feature → profile weight, valid while `stamp[f]` is the current generation. */
const scratches = new WeakMap<ContentModel, { stamp: Int32Array; weight: Float64Array; generation: number }>();
function profileScratch(model: ContentModel) {
  let s = scratches.get(model);
  if (!s) scratches.set(model, (s = { stamp: new Int32Array(model.byFeature.rows), weight: new Float64Array(model.byFeature.rows), generation: 0 }));
  return s;
}

/**
 * Features kept of a user profile when scoring. A long history touches most of the vocabulary, and scoring walks
 * every kept feature's posting list (all of them is about the whole items × features matrix, ~1.7M entries at
 * 50,000 movies, per user); the strongest few hundred carry nearly all of the cosine, and the norm stays the full one.
 */
export const MAX_PROFILE_FEATURES = 200;

/**
 * The `max` features of largest |weight|, strongest first, ties in first-touch order — what a stable sort of the
 * whole profile then a cut gave, found through a threshold (the max-th largest magnitude, by selection: a long
 * history touches thousands of features, and sorting them all was a tenth of batch scoring) instead.
 */
function strongest(touched: readonly number[], weight: Float64Array, max: number): readonly number[] {
  if (touched.length <= max) return touched;
  const mags = Float64Array.from(touched, (f) => Math.abs(weight[f]));
  const threshold = kthSmallest(mags.slice(), mags.length - max);
  const kept: number[] = [];
  for (let k = 0; k < touched.length; k++) if (mags[k] > threshold) kept.push(k);
  for (let k = 0; k < touched.length && kept.length < max; k++) if (mags[k] === threshold) kept.push(k);
  kept.sort((a, b) => mags[b] - mags[a] || a - b);
  return kept.map((k) => touched[k]);
}

/** The value at position `k` of `a` sorted ascending (Hoare's selection, in place; `a` holds no NaN). */
export function kthSmallest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    // Median of three as the pivot: sorted or constant runs stay linear.
    const mid = (lo + hi) >> 1;
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** Cosine between two items' content profiles. */
export function contentSimilarity(model: ContentModel, a: number, b: number): number {
  const m = model.items;
  let p = m.indptr[a];
  let q = m.indptr[b];
  let dot = 0;
  while (p < m.indptr[a + 1] && q < m.indptr[b + 1]) {
    if (m.indices[p] === m.indices[q]) dot += m.data[p++] * m.data[q++];
    else if (m.indices[p] < m.indices[q]) p++;
    else q++;
  }
  return dot;
}

const STOP_WORDS = new Set(
  "the and for are but not you all any can had her was one our out has him his how its may new now old see two way who boy did get let put say she too use with that this from they will have when what into than then them only over such some more most other their there about after where which while would could should these those being been were your just like also back even well ever".split(" "),
);
