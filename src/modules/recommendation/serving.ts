/**
 * Serving: precomputed lists (Redis first, PostgreSQL on a miss), filtered against what the user has done since,
 * and a cold-start list at once for users without rows. Trending and similar movies are computed from the
 * interactions with SQL and cached briefly.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { NotFoundError } from "../../platform/errors.ts";
import type { AlgorithmName } from "./algorithms/recommender.ts";
import { SEEN_TYPES } from "./interaction-weights.ts";
import { movieSummaries, type MovieSummaryRow } from "./movie-summaries.ts";
import { readReasons } from "./reasons.ts";
import type { ModelStore } from "./model-store.ts";
import { itemIndexOf } from "./model-artefact.ts";
import { similarItems } from "./similar-movies.ts";
import { bounded, listKey, readCachedList, writeCachedList } from "./serving-cache.ts";
import { trendingSql } from "./trending-sql.ts";
import { handleOf } from "./list-handles.ts";

export interface ServedItem {
  /** The id clicks and feedback name (a list handle, list-handles.ts); empty for cold-start items, which have none. */
  id: string;
  movie: MovieSummaryRow;
  score: number;
  algorithm: AlgorithmName;
  reason: string;
  generatedAt: Date;
}

const WINDOW_DAYS = { day: 1, week: 7, month: 30 } as const;
export type TrendingWindow = keyof typeof WINDOW_DAYS;

/** Filters shared by stored and cold-start lists: nothing seen, disliked, or dismissed through feedback. */
const NOT_SEEN = `not exists (select 1 from user_movie_interactions i where i.user_id = ?::bigint and i.movie_id = x.movie_id and i.interaction_type in (${SEEN_TYPES.map((t) => `'${t}'`).join(", ")}))
  and not exists (select 1 from recommendation_feedback f join user_recommendations r2 on r2.id = f.recommendation_id
                  where f.user_id = ?::bigint and r2.movie_id = x.movie_id and f.feedback_type in ('negative', 'not_interested', 'already_seen'))`;

/** The user's cached list for these options, or null (one Redis round trip; see serving-cache.ts). */
export async function cachedRecommendations(redis: Redis, userId: string, opts: { algorithm: AlgorithmName; limit: number; genreId?: string | undefined }) {
  const cached = await readCachedList(redis, listKey(userId, opts.algorithm), opts.genreId ?? "all", opts.limit);
  return cached && { items: cached, algorithm: cached[0]?.algorithm ?? opts.algorithm };
}

/** The user's recommendations, best first; `algorithm` in the result says what was actually served. */
export async function getRecommendations(
  em: EntityManager,
  redis: Redis,
  userId: string,
  opts: { algorithm: AlgorithmName; limit: number; genreId?: string | undefined },
): Promise<{ items: ServedItem[]; algorithm: AlgorithmName }> {
  const key = listKey(userId, opts.algorithm);
  const field = opts.genreId ?? "all";
  const cached = await readCachedList(redis, key, field, opts.limit);
  if (cached) return { items: cached, algorithm: cached[0]?.algorithm ?? opts.algorithm };
  const genre = opts.genreId ? "and exists (select 1 from movie_genres mg where mg.movie_id = x.movie_id and mg.genre_id = ?::bigint)" : "";
  // The user's latest list of the algorithm, in its stored order (the order it was scored in), minus what they have
  // seen or dismissed since.
  const rows = await em.execute<{ list_id: string; pos: number; movie_id: string; score: number; generated_at: Date }[]>(
    `select l.id::text as list_id, x.pos::int as pos, x.movie_id::text as movie_id, x.score, l.generated_at
       from (select id, movie_ids, scores, generated_at from user_recommendation_lists
              where user_id = ?::bigint and algorithm = ? order by id desc limit 1) l
       cross join lateral unnest(l.movie_ids, l.scores) with ordinality as x(movie_id, score, pos)
      where ${NOT_SEEN} ${genre}
      order by x.pos limit 100`,
    [userId, opts.algorithm, userId, userId, ...(opts.genreId ? [opts.genreId] : [])],
  );
  let items: ServedItem[];
  let algorithm = opts.algorithm;
  if (rows.length > 0) {
    const reasonOf = await readReasons(redis, userId, opts.algorithm);
    const movies = await movieSummaries(em, rows.map((r) => r.movie_id));
    items = rows.flatMap((r) => {
      const movie = movies.get(r.movie_id);
      return movie ? [{ id: handleOf(r.list_id, r.pos - 1), movie, score: r.score, algorithm: opts.algorithm, reason: reasonOf(r.movie_id) ?? fallbackReason(opts.algorithm), generatedAt: new Date(r.generated_at) }] : [];
    });
  } else {
    algorithm = "trending";
    items = await coldStart(em, userId, opts.genreId);
  }
  await writeCachedList(redis, key, field, items);
  return { items: items.slice(0, opts.limit), algorithm };
}

/** Genre-aware trending for users without rows: favourite genres first, then the week's trending (as GetTrendingMovies), then popularity. */
async function coldStart(em: EntityManager, userId: string, genreId: string | undefined): Promise<ServedItem[]> {
  const genre = genreId ? "and exists (select 1 from movie_genres mg where mg.movie_id = x.movie_id and mg.genre_id = ?::bigint)" : "";
  const rows = await em.execute<{ movie_id: string; recent: number; fav: string | null }[]>(
    `with fav as (select fg.genre_id, g.name from user_favorite_genres fg join user_profiles p on p.id = fg.userprofile_id join genres g on g.id = fg.genre_id where p.user_id = ?::bigint),
     recent as (${trendingSql()})
     select x.movie_id::text as movie_id, coalesce(r.score, 0) as recent,
       (select min(fav.name) from fav join movie_genres mg on mg.genre_id = fav.genre_id where mg.movie_id = x.movie_id) as fav
     from (select id as movie_id, popularity_score from movies where is_active) x left join recent r on r.movie_id = x.movie_id
     where ${NOT_SEEN} ${genre}
     order by (select count(*) from fav join movie_genres mg on mg.genre_id = fav.genre_id where mg.movie_id = x.movie_id) > 0 desc,
              coalesce(r.score, 0) desc, x.popularity_score desc, x.movie_id
     limit 100`,
    [userId, WINDOW_DAYS.week, userId, userId, ...(genreId ? [genreId] : [])],
  );
  const movies = await movieSummaries(em, rows.map((r) => r.movie_id));
  const top = Math.max(0, ...rows.map((r) => r.recent)) || 1;
  const now = new Date();
  return rows.flatMap((r, k) => {
    const movie = movies.get(r.movie_id);
    if (!movie) return [];
    const score = r.recent > 0 ? r.recent / top : Math.max(0, 0.5 - k / 400);
    return [{ id: "", movie, score, algorithm: "trending" as const, reason: r.fav ? `Trending in ${r.fav} this week` : "Popular right now", generatedAt: now }];
  });
}

function fallbackReason(algorithm: AlgorithmName): string {
  return algorithm === "trending" ? "Trending this week" : algorithm === "content_based" ? "Matches what you like" : "Picked for your taste";
}

/** Movies trending in the window before the latest interaction (optionally of one genre); score relative to the top one. */
export async function getTrending(em: EntityManager, redis: Redis, opts: { window: TrendingWindow; limit: number; genreId?: string | undefined }) {
  const key = `rec:trending:${opts.window}:${opts.genreId ?? "all"}`;
  const cached = await bounded(redis.get(key), null);
  let list: { movie: MovieSummaryRow; score: number; count: number }[];
  if (cached) {
    list = JSON.parse(cached) as typeof list;
  } else {
    const genre = opts.genreId ? "and exists (select 1 from movie_genres mg where mg.movie_id = i.movie_id and mg.genre_id = ?::bigint)" : "";
    const rows = await em.execute<{ movie_id: string; score: number; n: number }[]>(
      `select t.movie_id::text as movie_id, t.score, t.n from (${trendingSql(genre)}) t order by t.score desc, t.movie_id limit 100`,
      [WINDOW_DAYS[opts.window], ...(opts.genreId ? [opts.genreId] : [])],
    );
    const movies = await movieSummaries(em, rows.map((r) => r.movie_id));
    const top = rows[0]?.score || 1;
    list = rows.flatMap((r) => (movies.has(r.movie_id) ? [{ movie: movies.get(r.movie_id)!, score: r.score / top, count: r.n }] : []));
    await bounded(redis.set(key, JSON.stringify(list), "EX", 60).then(() => undefined), undefined);
  }
  return list.slice(0, opts.limit);
}

/**
 * Similar movies, never the movie itself: from the trained model when one is published and knows the movie (kNN
 * blended with content), else from SQL (movies the same people interacted with, then movies sharing genres).
 */
export async function getSimilar(em: EntityManager, redis: Redis, store: ModelStore, movieId: string, limit: number) {
  const stored = await bounded(store.current(), null);
  const item = stored ? (itemIndexOf(stored).get(movieId) ?? -1) : -1;
  const key = `rec:similar:${stored && item >= 0 ? stored.meta.version : "sql"}:${movieId}`;
  const cached = await bounded(redis.get(key), null);
  let list: { movie: MovieSummaryRow; score: number; reason: string }[];
  if (cached) {
    list = JSON.parse(cached) as typeof list;
  } else if (stored && item >= 0) {
    const exists = await em.execute("select 1 from movies where id = ?::bigint and is_active", [movieId]);
    if (exists.length === 0) throw new NotFoundError("movie", movieId);
    const similar = similarItems(stored.model, item, 100);
    const movies = await movieSummaries(em, similar.map((s) => stored.movieIds[s.item]));
    list = similar.flatMap((s) => {
      const movie = movies.get(stored.movieIds[s.item]);
      const reason = s.basis === "together" ? "People who liked this also liked it" : "Similar genres, cast or story";
      return movie ? [{ movie, score: Math.min(1, s.score), reason }] : [];
    });
    await bounded(redis.set(key, JSON.stringify(list), "EX", 600).then(() => undefined), undefined);
  } else {
    const exists = await em.execute("select 1 from movies where id = ?::bigint and is_active", [movieId]);
    if (exists.length === 0) throw new NotFoundError("movie", movieId);
    const rows = await em.execute<{ movie_id: string; co: number; shared: number }[]>(
      `with fans as (select distinct user_id from user_movie_interactions where movie_id = ?::bigint and interaction_type <> 'dislike' limit 5000),
       co as (select i.movie_id, count(distinct i.user_id)::int as n from user_movie_interactions i join fans f on f.user_id = i.user_id
              where i.movie_id <> ?::bigint and i.interaction_type <> 'dislike' group by i.movie_id),
       gen as (select mg2.movie_id, count(*)::int as n from movie_genres mg1 join movie_genres mg2 on mg2.genre_id = mg1.genre_id
               where mg1.movie_id = ?::bigint and mg2.movie_id <> ?::bigint group by mg2.movie_id)
       select m.id::text as movie_id, coalesce(co.n, 0) as co, coalesce(gen.n, 0) as shared
       from movies m left join co on co.movie_id = m.id left join gen on gen.movie_id = m.id
       where m.is_active and m.id <> ?::bigint and (co.n > 0 or gen.n > 0)
       order by coalesce(co.n, 0) desc, coalesce(gen.n, 0) desc, m.popularity_score desc, m.id limit 100`,
      [movieId, movieId, movieId, movieId, movieId],
    );
    const movies = await movieSummaries(em, rows.map((r) => r.movie_id));
    const topCo = Math.max(1, rows[0]?.co ?? 1);
    const maxShared = Math.max(1, ...rows.map((r) => r.shared));
    list = rows.flatMap((r) => {
      const movie = movies.get(r.movie_id);
      if (!movie) return [];
      const score = r.co > 0 ? 0.5 + 0.5 * (r.co / topCo) : 0.5 * (r.shared / maxShared);
      const reason = r.co > 0 ? `${r.co} ${r.co === 1 ? "person" : "people"} who watched this also watched it` : `${r.shared} shared ${r.shared === 1 ? "genre" : "genres"}`;
      return [{ movie, score: Math.min(1, score), reason }];
    });
    await bounded(redis.set(key, JSON.stringify(list), "EX", 600).then(() => undefined), undefined);
  }
  return list.slice(0, limit);
}
