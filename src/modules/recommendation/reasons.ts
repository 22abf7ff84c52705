/**
 * Reasons a person can read ("Because you liked Alien"), chosen when a user is scored and kept in Redis, because
 * the scored lists (`user_recommendation_lists`) have no reason column. Stored compactly per (user, algorithm): the few titles the reasons
 * name once, and per recommended movie the position of its title, so 100,000 users × 3 lists stay small.
 */
import type { Redis } from "ioredis";
import type { AlgorithmName, Recommender } from "./algorithms/recommender.ts";
import type { Csr } from "./algorithms/csr.ts";
import { bounded } from "./serving-cache.ts";

/** Redis key of a user's reasons for one algorithm. */
export const reasonKey = (userId: string, algorithm: AlgorithmName) => `rec:reasons:${userId}:${algorithm}`;
const REASON_TTL_SECONDS = 30 * 86_400;
/** Only the most recent liked items are candidates for "because you liked": cheap, and what the user remembers. */
const REASON_HISTORY = 10;

/** Stored form: `t` the titles named, `r` movie id → index in `t`, `d` the text for the other movies (optional). */
export interface StoredReasons {
  t: string[];
  r: Record<string, number>;
  d?: string;
}

/**
 * Picks, for each recommended item, the recent liked item that explains it best; -1 when none does.
 * The content similarities of a candidate to all liked items come from one pass over the candidate's features
 * (a per-model feature → liked-items table, reset per user by a generation stamp instead of clearing), not from one
 * sorted merge per liked item: this runs for 400 candidates per user in batch scoring.
 */
export function createReasonPicker(model: Recommender, history: { items: ArrayLike<number>; values: ArrayLike<number>; times: ArrayLike<number> }) {
  const liked: number[] = [];
  const order = Array.from({ length: history.items.length }, (_, h) => h).filter((h) => history.values[h] > 0);
  order.sort((a, b) => history.times[b] - history.times[a]);
  for (const h of order.slice(0, REASON_HISTORY)) liked.push(h);
  const likedItems = liked.map((h) => history.items[h]);
  const content = model.content ? likedFeatures(model.content.items, likedItems) : null;
  const knn = likedNeighbours(model.knn, likedItems);
  const sims = new Float64Array(liked.length);
  const knnSims = new Float64Array(liked.length);
  const memo = new Map<number, number>();
  return (algorithm: AlgorithmName, j: number): number => {
    if (algorithm === "trending") return -1;
    const useKnn = algorithm !== "content_based";
    const key = j * 2 + (useKnn ? 1 : 0);
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    if (content) content.similarities(j, sims);
    if (useKnn) knn.similarities(j, knnSims);
    let best = -1;
    let bestScore = 0;
    for (let l = 0; l < liked.length; l++) {
      const h = liked[l];
      const a = history.items[h];
      // A watchlisted movie can be recommended itself; it must not be its own reason.
      if (a === j) continue;
      let s = useKnn ? knnSims[l] : 0;
      if (s === 0 && content) s = 0.5 * sims[l];
      s *= history.values[h];
      if (s > bestScore) {
        bestScore = s;
        best = a;
      }
    }
    memo.set(key, best);
    return best;
  };
}

/**
 * Per kNN matrix: item → its similarity to each liked item (`L` slots per item), for the picker that last took it.
 * Filled from the liked items' neighbour rows (L × k entries) and cleared the same way, so a look-up is one read
 * instead of a binary search in each liked item's row (400 candidates × 10 liked items per user).
 */
const neighbourTables = new WeakMap<Csr, { table: Float32Array; owner: object | null; filled: number[] }>();

function likedNeighbours(knn: Csr, likedItems: readonly number[]) {
  let shared = neighbourTables.get(knn);
  if (!shared) neighbourTables.set(knn, (shared = { table: new Float32Array(knn.rows * REASON_HISTORY), owner: null, filled: [] }));
  const s = shared;
  const me = {};
  const L = REASON_HISTORY;
  const take = () => {
    for (const p of s.filled) s.table[p] = 0;
    s.filled = [];
    for (let l = 0; l < likedItems.length; l++) {
      const a = likedItems[l];
      for (let p = knn.indptr[a]; p < knn.indptr[a + 1]; p++) {
        const slot = knn.indices[p] * L + l;
        s.table[slot] = knn.data[p];
        s.filled.push(slot);
      }
    }
    s.owner = me;
  };
  return {
    /** sim(liked[l], j) for each l (0 when j is not among liked[l]'s neighbours). */
    similarities(j: number, out: Float64Array): void {
      // Another user's picker took the table since (or none had it yet): fill it with this one's rows.
      if (s.owner !== me) take();
      const base = j * L;
      for (let l = 0; l < out.length; l++) out[l] = s.table[base + l];
    },
  };
}

/** Per content matrix: feature → row of `weights` (valid while `stamp[f]` is the current generation). */
const featureTables = new WeakMap<Csr, { stamp: Int32Array; slot: Int32Array; generation: number }>();

/** Cosines of any item with each of `likedItems` (rows of the L2-normalised items × features matrix `m`). */
function likedFeatures(m: Csr, likedItems: readonly number[]) {
  let table = featureTables.get(m);
  if (!table) featureTables.set(m, (table = { stamp: new Int32Array(m.cols), slot: new Int32Array(m.cols), generation: 0 }));
  let gen = ++table.generation;
  const { stamp, slot } = table;
  const L = likedItems.length;
  const weights: number[] = [];
  const features: number[] = [];
  let rows = 0;
  for (let l = 0; l < L; l++) {
    const a = likedItems[l];
    for (let p = m.indptr[a]; p < m.indptr[a + 1]; p++) {
      const f = m.indices[p];
      if (stamp[f] !== gen) {
        stamp[f] = gen;
        slot[f] = rows++;
        features.push(f);
        for (let k = 0; k < L; k++) weights.push(0);
      }
      weights[slot[f] * L + l] = m.data[p];
    }
  }
  const w = Float64Array.from(weights);
  return {
    similarities(j: number, out: Float64Array): void {
      out.fill(0);
      if (table.generation !== gen) {
        // Another user's picker took the table since: stamp this one's features again (a few hundred writes).
        gen = ++table.generation;
        for (let r = 0; r < features.length; r++) {
          stamp[features[r]] = gen;
          slot[features[r]] = r;
        }
      }
      for (let p = m.indptr[j]; p < m.indptr[j + 1]; p++) {
        const f = m.indices[p];
        if (stamp[f] !== gen) continue;
        const v = m.data[p];
        const base = slot[f] * L;
        for (let l = 0; l < L; l++) out[l] += v * w[base + l];
      }
    },
  };
}

/** Encodes movie id → title of the movie that explains it (or undefined: `fallback` then, when given). */
export function encodeReasons(entries: Iterable<[string, string | undefined]>, fallback?: string): string {
  const t: string[] = [];
  const pos = new Map<string, number>();
  const r: Record<string, number> = {};
  for (const [movieId, title] of entries) {
    if (title === undefined) continue;
    let k = pos.get(title);
    if (k === undefined) {
      pos.set(title, (k = t.length));
      t.push(title);
    }
    r[movieId] = k;
  }
  return JSON.stringify({ t, r, ...(fallback ? { d: fallback } : {}) } satisfies StoredReasons);
}

/** Queues the writes of encoded reasons on a pipeline/multi. */
export function writeReasons(pipe: ReturnType<Redis["pipeline"]>, userId: string, algorithm: AlgorithmName, encoded: string): void {
  pipe.set(reasonKey(userId, algorithm), encoded, "EX", REASON_TTL_SECONDS);
}

/**
 * Stores the encoded reasons of many users. On one Redis in one pipeline; on a cluster one command each, because a
 * pipeline there may only hold keys of one node's slots and these keys (untagged) spread over all of them — ioredis
 * still writes every command before the first answer comes back. Rejects when any write fails.
 */
export async function storeReasons(redis: Redis, entries: Iterable<{ userId: string; algorithm: AlgorithmName; encoded: string }>): Promise<void> {
  if ((redis as { isCluster?: boolean }).isCluster) {
    await Promise.all(Array.from(entries, (e) => redis.set(reasonKey(e.userId, e.algorithm), e.encoded, "EX", REASON_TTL_SECONDS)));
    return;
  }
  const pipe = redis.pipeline();
  for (const e of entries) writeReasons(pipe, e.userId, e.algorithm, e.encoded);
  await pipe.exec();
}

/** Reads a user's reasons for one algorithm: movie id → text (absent when the generic reason applies). */
export async function readReasons(redis: Redis, userId: string, algorithm: AlgorithmName): Promise<(movieId: string) => string | undefined> {
  const raw = await bounded(redis.get(reasonKey(userId, algorithm)), null);
  if (!raw) return () => undefined;
  const parsed = JSON.parse(raw) as StoredReasons | Record<string, string>;
  if (!("t" in parsed) || !Array.isArray(parsed.t)) {
    const old = parsed as Record<string, string>; // the earlier format: movie id → full text
    return (m) => old[m];
  }
  const { t, r, d } = parsed as StoredReasons;
  return (m) => (r[m] === undefined ? d : `Because you liked ${t[r[m]]}`);
}
