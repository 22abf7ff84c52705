/**
 * Serving a hybrid with parameters of its own (an experiment variant): the workers precompute one hybrid per user,
 * with the trained model's blend, so a variant that blends differently is scored on read — the same fold-in the
 * workers run (`scoreUser` over the published model and the user's history), with the variant's weights.
 *
 * The list is cached in the user's hybrid list hash under a field naming the parameters, so the writes that drop
 * the user's cached lists (interactions, feedback, rescoring) drop it too. Items carry the id of the same movie in the
 * user's stored hybrid list when it is there (list-handles.ts), so RecordRecommendationClick works for them as for
 * any list.
 * Without a published model the stored hybrid list is served (and says so through its algorithm).
 */
import { createHash } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import type { HybridParams } from "./algorithms/hybrid.ts";
import { scoreUser } from "./algorithms/recommender.ts";
import { topK } from "./algorithms/top-k.ts";
import { itemIndexOf } from "./model-artefact.ts";
import type { ModelStore } from "./model-store.ts";
import { movieSummaries } from "./movie-summaries.ts";
import { handleOf } from "./list-handles.ts";
import { readReasons } from "./reasons.ts";
import { getRecommendations, type ServedItem } from "./serving.ts";
import { listKey, readCachedList, writeCachedList } from "./serving-cache.ts";
import { loadUserHistory } from "./training-data.ts";

/** A stable short name of a parameter set (the cache field). */
export function paramsKey(params: Partial<HybridParams>): string {
  const sorted = Object.keys(params).sort().map((k) => [k, params[k as keyof HybridParams]]);
  return createHash("sha256").update(JSON.stringify(sorted)).digest("base64url").slice(0, 12);
}

/** The user's hybrid with `params` over the trained blend, best first. */
export async function getVariantRecommendations(
  em: EntityManager,
  redis: Redis,
  store: ModelStore,
  userId: string,
  params: Partial<HybridParams>,
  opts: { limit: number; genreId?: string | undefined },
): Promise<{ items: ServedItem[]; algorithm: ServedItem["algorithm"] }> {
  const key = listKey(userId, "hybrid");
  const field = `${opts.genreId ?? "all"}#${paramsKey(params)}`;
  const cached = await readCachedList(redis, key, field, opts.limit);
  if (cached) return { items: cached, algorithm: "hybrid" };
  const stored = await store.current().catch(() => null);
  if (!stored) return getRecommendations(em, redis, userId, { algorithm: "hybrid", limit: opts.limit, genreId: opts.genreId });
  const index = itemIndexOf(stored);
  const { history, seen } = await loadUserHistory(em, userId, index);
  const exclude = new Uint8Array(stored.model.items);
  for (const m of seen) {
    const i = index.get(m);
    if (i !== undefined) exclude[i] = 1;
  }
  const scores = scoreUser(stored.model, history, "hybrid", exclude, { ...stored.model.params, ...params });
  const best = topK(scores, 100, { exclude, floor: 0 });
  const movieIds = Array.from(best.indices, (j) => stored.movieIds[j]);
  const movies = await movieSummaries(em, movieIds);
  const [list] = await em.execute<{ id: string; movie_ids: string[] }[]>(
    "select id::text as id, movie_ids::text[] as movie_ids from user_recommendation_lists where user_id = ?::bigint and algorithm = 'hybrid' order by id desc limit 1",
    [userId],
  );
  const rowOf = new Map((list?.movie_ids ?? []).map((m, k) => [m, handleOf(list!.id, k)]));
  const reasonOf = await readReasons(redis, userId, "hybrid");
  const top = best.scores[0] || 1;
  const now = new Date();
  const items: ServedItem[] = [];
  movieIds.forEach((m, k) => {
    const movie = movies.get(m);
    if (!movie || (opts.genreId && !movie.genres.some((g) => g.id === opts.genreId))) return;
    const score = Math.min(1, Math.max(0, best.scores[k] / top));
    items.push({ id: rowOf.get(m) ?? "", movie, score, algorithm: "hybrid", reason: reasonOf(m) ?? "Picked for your taste", generatedAt: now });
  });
  await writeCachedList(redis, key, field, items);
  return { items: items.slice(0, opts.limit), algorithm: "hybrid" };
}
