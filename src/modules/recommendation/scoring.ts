/**
 * The scoring pipeline behind the workers: train (fit and publish a model), score users (fold-in of their current
 * interactions into the stored model, no retraining) and write their top N per algorithm. A user's rows are
 * replaced in one transaction under a per-user advisory lock, so two workers never score one user at once and a
 * crash midway leaves the previous recommendations in place.
 */
import type { EntityManager, MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { ALGORITHMS, DEFAULT_TRAIN, scoreUser, trainRecommender, type AlgorithmName } from "./algorithms/recommender.ts";
import { topK } from "./algorithms/top-k.ts";
import { contentSimilarity } from "./algorithms/content.ts";
import { loadCatalogue, loadTrainingData, loadUserHistory } from "./training-data.ts";
import type { ModelStore } from "./model-store.ts";
import type { StoredModel } from "./model-artefact.ts";
import { invalidateUser } from "./serving-cache.ts";

export interface ScoringOptions {
  topN: number;
  maxItems: number;
}

/** Fits every model on the current data and publishes it; returns its metadata. */
export async function trainAndPublish(orm: MikroORM, store: ModelStore, opts: ScoringOptions, now = new Date()) {
  const em = orm.em.fork();
  const started = performance.now();
  const catalogue = await loadCatalogue(em);
  const data = await loadTrainingData(em, catalogue, now);
  const model = trainRecommender(data, { ...DEFAULT_TRAIN, maxItems: opts.maxItems });
  const meta = {
    version: `v${now.getTime()}`,
    trainedAt: now.toISOString(),
    userCount: data.users,
    movieCount: data.items,
    interactionCount: data.interactionCount,
    trainSeconds: (performance.now() - started) / 1000,
    evaluation: {},
  };
  await store.publish({ meta, movieIds: catalogue.movieIds, model });
  return { meta, userIds: data.userIds };
}

/** Scores one user with every algorithm and replaces their rows. */
export async function rescoreUser(orm: MikroORM, redis: Redis, stored: StoredModel, userId: string, opts: ScoringOptions, now = new Date()): Promise<number> {
  const index = indexOf(stored);
  let written = 0;
  await orm.em.fork().transactional(async (tx) => {
    await tx.execute("select pg_advisory_xact_lock(hashtext('movierec.rescore'), (?::bigint % 2147483647)::int)", [userId]);
    const { history, seen } = await loadUserHistory(tx, userId, index);
    const exclude = new Uint8Array(stored.model.items);
    for (const m of seen) {
      const i = index.get(m);
      if (i !== undefined) exclude[i] = 1;
    }
    const titles = await titlesOf(tx, stored, history.items);
    for (const algorithm of ALGORITHMS) {
      const scores = scoreUser(stored.model, history, algorithm, exclude);
      const best = topK(scores, opts.topN, { exclude, floor: 0 });
      const movieIds = Array.from(best.indices, (i) => stored.movieIds[i]);
      // Scores in [0, 1]: relative to the user's best candidate of this algorithm.
      const top = best.scores[0] ?? 1;
      const rel = Array.from(best.scores, (s) => Math.min(1, Math.max(0, s / top)));
      if (movieIds.length > 0) await tx.execute(
        `insert into user_recommendations (user_id, movie_id, score, algorithm, generated_at)
         select ?::bigint, m, s, ?, ? from unnest(array[?]::bigint[], array[?]::float8[]) as t(m, s)
         on conflict (user_id, movie_id, algorithm) do update set score = excluded.score, generated_at = excluded.generated_at`,
        [userId, algorithm, now, movieIds, rel],
      );
      // Rows from older runs go, except those a click or feedback refers to (kept, but no longer served).
      await tx.execute(
        `delete from user_recommendations r where r.user_id = ?::bigint and r.algorithm = ? and r.generated_at < ? and not r.clicked
         and not exists (select 1 from recommendation_feedback f where f.recommendation_id = r.id)`,
        [userId, algorithm, now],
      );
      const reasons = best.indices.length > 0 ? Array.from(best.indices, (j) => reasonFor(stored, history, titles, algorithm, j)) : [];
      await redis.set(reasonKey(userId, algorithm), JSON.stringify(Object.fromEntries(movieIds.map((m, k) => [m, reasons[k]]))), "EX", 30 * 86_400);
      written += movieIds.length;
    }
  });
  await invalidateUser(redis, userId);
  return written;
}

/** The stored reasons of a user's rows for one algorithm (movie id → text). */
export const reasonKey = (userId: string, algorithm: AlgorithmName) => `rec:reasons:${userId}:${algorithm}`;

const indexCache = new WeakMap<StoredModel, Map<string, number>>();
function indexOf(stored: StoredModel): Map<string, number> {
  let m = indexCache.get(stored);
  if (!m) indexCache.set(stored, (m = new Map(stored.movieIds.map((id, i) => [id, i]))));
  return m;
}

async function titlesOf(em: EntityManager, stored: StoredModel, items: ArrayLike<number>): Promise<Map<number, string>> {
  const ids = Array.from(items, (i) => stored.movieIds[i]);
  const rows = ids.length === 0 ? [] : await em.execute<{ id: string; title: string }[]>("select id::text as id, title from movies where id = any(array[?]::bigint[])", [ids]);
  const index = indexOf(stored);
  return new Map(rows.map((r) => [index.get(r.id)!, r.title]));
}

/** "Because you liked X": the liked history item most similar to the recommendation (kNN, else content). */
function reasonFor(stored: StoredModel, history: { items: ArrayLike<number>; values: ArrayLike<number> }, titles: Map<number, string>, algorithm: AlgorithmName, j: number): string {
  if (algorithm === "trending") return "Trending this week";
  const m = stored.model;
  let best = -1;
  let bestScore = 0;
  for (let h = 0; h < history.items.length; h++) {
    if (history.values[h] <= 0) continue;
    const a = history.items[h];
    let s = 0;
    if (algorithm !== "content_based") {
      for (let p = m.knn.indptr[a]; p < m.knn.indptr[a + 1]; p++) if (m.knn.indices[p] === j) s = m.knn.data[p];
    }
    if (s === 0 && m.content) s = 0.5 * contentSimilarity(m.content, a, j);
    s *= history.values[h];
    if (s > bestScore) {
      bestScore = s;
      best = a;
    }
  }
  const title = best >= 0 ? titles.get(best) : undefined;
  if (title) return `Because you liked ${title}`;
  return history.items.length === 0 ? "Popular in your favourite genres" : "Picked for your taste";
}
