/**
 * What "trending" means everywhere it is read from SQL (GetTrendingMovies and the cold-start list), and the same as the
 * model's trending part: each interaction's positive weight halved every `TRENDING_HALF_LIFE_DAYS`, ages measured from
 * the latest interaction (capped at now), not from the wall clock, so a catalogue whose last event is a year old still
 * has trending movies. Within a window of at most 30 days of that event the factor never falls below 2^-4.3.
 */
import { DEFAULT_TRAIN } from "./algorithms/recommender.ts";
import { WEIGHT_SQL } from "./interaction-weights.ts";

export const TRENDING_HALF_LIFE_DAYS = DEFAULT_TRAIN.trendingHalfLifeDays;

/**
 * A CTE body yielding `(movie_id, score, n)` for active movies with positive interactions in the `?` days (first
 * parameter) before the anchor; `extra` is more SQL over `i` (the interactions) and `m` (the movies).
 */
export function trendingSql(extra = ""): string {
  return `select i.movie_id, sum(greatest(${WEIGHT_SQL}, 0) * power(0.5, extract(epoch from (a.t - i."timestamp")) / ${86_400 * TRENDING_HALF_LIFE_DAYS}))::float8 as score, count(*)::int as n
    from (select least(now(), max("timestamp")) as t from user_movie_interactions) a
    join user_movie_interactions i on i."timestamp" > a.t - make_interval(days => ?) and i."timestamp" <= a.t
    join movies m on m.id = i.movie_id and m.is_active
    where ${WEIGHT_SQL} > 0 ${extra}
    group by i.movie_id`;
}
