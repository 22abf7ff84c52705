/**
 * The trained model as one binary artefact: a JSON header (version, statistics, parameters, movie ids, typed-array
 * directory) followed by the typed arrays, 8-byte aligned. Kept in Redis rather than a PostgreSQL table: it is
 * derived data (retrainable from the interactions at any time), every worker loads it whole, and the design's
 * tables stay untouched (see the note of issue 5).
 */
import type { Recommender } from "./algorithms/recommender.ts";
import type { HybridParams } from "./algorithms/hybrid.ts";
import type { Tuned } from "../../eval/tune.ts";

export interface ModelMeta {
  version: string;
  trainedAt: string;
  userCount: number;
  movieCount: number;
  interactionCount: number;
  trainSeconds: number;
  evaluation: Record<string, number>;
  evaluatedAt?: string;
  /** The parameters this model serves with (tuned at its training, or the defaults) and EASE's λ. */
  params?: HybridParams;
  lambda?: number;
  /** The tuning's validation figures (absent when the training did not tune). */
  tuning?: Tuned;
}

export interface StoredModel {
  meta: ModelMeta;
  /** Dense item index → movie id. */
  movieIds: string[];
  model: Recommender;
}

type Typed = Int32Array | Float32Array;
const KINDS = { i32: Int32Array, f32: Float32Array } as const;

/** Serialises a trained model. */
export function encodeModel(stored: StoredModel): Buffer {
  const m = stored.model;
  const arrays: Record<string, Typed> = {
    easeItems: m.ease.items,
    easePosition: m.ease.position,
    easeWeights: m.ease.weights,
    knnIndptr: m.knn.indptr,
    knnIndices: m.knn.indices,
    knnData: m.knn.data,
    trending: m.trending,
    popularity: m.popularity,
  };
  if (m.content) {
    Object.assign(arrays, {
      contentIndptr: m.content.items.indptr,
      contentIndices: m.content.items.indices,
      contentData: m.content.items.data,
      featureIndptr: m.content.byFeature.indptr,
      featureIndices: m.content.byFeature.indices,
      featureData: m.content.byFeature.data,
    });
  }
  const directory: { name: string; kind: keyof typeof KINDS; offset: number; length: number }[] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(arrays)) {
    directory.push({ name, kind: a instanceof Int32Array ? "i32" : "f32", offset, length: a.length });
    offset += Math.ceil(a.byteLength / 8) * 8;
  }
  const header = Buffer.from(
    JSON.stringify({
      meta: stored.meta,
      movieIds: stored.movieIds,
      items: m.items,
      params: m.params,
      contentShape: m.content ? { rows: m.content.items.rows, cols: m.content.items.cols, vocabulary: [...m.content.vocabulary.keys()] } : null,
      directory,
    }),
  );
  const headerLen = Math.ceil((header.length + 4) / 8) * 8;
  const out = Buffer.alloc(headerLen + offset);
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  for (const d of directory) {
    const a = arrays[d.name];
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, headerLen + d.offset);
  }
  return out;
}

/** Reads an artefact written by encodeModel (copying the arrays out, so the buffer can be dropped). */
export function decodeModel(buf: Buffer): StoredModel {
  const len = buf.readUInt32LE(0);
  const h = JSON.parse(buf.subarray(4, 4 + len).toString("utf8")) as {
    meta: ModelMeta;
    movieIds: string[];
    items: number;
    params: HybridParams;
    contentShape: { rows: number; cols: number; vocabulary: string[] } | null;
    directory: { name: string; kind: keyof typeof KINDS; offset: number; length: number }[];
  };
  const headerLen = Math.ceil((len + 4) / 8) * 8;
  const a: Record<string, Typed> = {};
  for (const d of h.directory) {
    const Kind = KINDS[d.kind];
    const bytes = buf.subarray(headerLen + d.offset, headerLen + d.offset + d.length * 4);
    const copy = new Kind(d.length);
    Buffer.from(copy.buffer).set(bytes);
    a[d.name] = copy;
  }
  const i32 = (n: string) => a[n] as Int32Array;
  const f32 = (n: string) => a[n] as Float32Array;
  const items = h.items;
  const cs = h.contentShape;
  const model: Recommender = {
    items,
    ease: { items: i32("easeItems"), position: i32("easePosition"), weights: f32("easeWeights") },
    knn: { rows: items, cols: items, indptr: i32("knnIndptr"), indices: i32("knnIndices"), data: f32("knnData") },
    content: cs
      ? {
          items: { rows: cs.rows, cols: cs.cols, indptr: i32("contentIndptr"), indices: i32("contentIndices"), data: f32("contentData") },
          byFeature: { rows: cs.cols, cols: cs.rows, indptr: i32("featureIndptr"), indices: i32("featureIndices"), data: f32("featureData") },
          vocabulary: new Map(cs.vocabulary.map((t, f) => [t, f])),
        }
      : null,
    trending: f32("trending"),
    popularity: f32("popularity"),
    params: h.params,
  };
  return { meta: h.meta, movieIds: h.movieIds, model };
}

const indexCache = new WeakMap<StoredModel, Map<string, number>>();

/** Movie id → dense item index of a model, built once per decoded model. */
export function itemIndexOf(stored: StoredModel): Map<string, number> {
  let m = indexCache.get(stored);
  if (!m) indexCache.set(stored, (m = new Map(stored.movieIds.map((id, i) => [id, i]))));
  return m;
}
