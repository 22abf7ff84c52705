/** Staff report queries: plain rows out, no protobuf. Dates are UTC days `YYYY-MM-DD`, both ends inclusive. */
import type pg from "pg";
import { merge, percentile, type Histogram } from "./latency-histogram.ts";
import { RPC_LATENCY_METRIC } from "./rpc-metrics.ts";

export type TopBy = "views" | "likes" | "rating" | "ctr";

export interface TopMovieRow {
  movieId: string; title: string; viewCount: number; likeCount: number; ratingCount: number;
  avgRating: number | null; recommendationCount: number; clickThroughRate: number;
}

/** Minimum ratings / recommendations in the range for the rating and CTR rankings (as the proto documents). */
export const MIN_RATINGS = 5;
export const MIN_RECOMMENDATIONS = 20;

const ORDER: Record<TopBy, string> = {
  views: "view_count desc",
  likes: "like_count desc",
  rating: "avg_rating desc nulls last",
  ctr: "click_through_rate desc",
};
const HAVING: Record<TopBy, string> = {
  views: "sum(p.view_count) > 0",
  likes: "sum(p.like_count) > 0",
  rating: `sum(p.rating_count) >= ${MIN_RATINGS}`,
  ctr: `sum(p.recommendation_count) >= ${MIN_RECOMMENDATIONS}`,
};

/** Movies ranked over the range from `popularity_metrics` (averages weighted by each day's ratings). */
export async function topMovies(pool: pg.Pool, start: string, end: string, by: TopBy, limit: number): Promise<TopMovieRow[]> {
  const res = await pool.query(
    `select p.movie_id::text as movie_id, m.title,
            sum(p.view_count)::int as view_count, sum(p.like_count)::int as like_count, sum(p.rating_count)::int as rating_count,
            (sum(p.avg_rating * p.rating_count) / nullif(sum(p.rating_count), 0))::float8 as avg_rating,
            sum(p.recommendation_count)::int as recommendation_count,
            coalesce(sum(p.click_through_rate * p.recommendation_count) / nullif(sum(p.recommendation_count), 0), 0)::float8 as click_through_rate
       from popularity_metrics p join movies m on m.id = p.movie_id
      where p."date" between $1::date and $2::date
      group by p.movie_id, m.title
     having ${HAVING[by]}
      order by ${ORDER[by]}, p.movie_id
      limit $3`,
    [start, end, limit],
  );
  return res.rows.map((r) => ({
    movieId: r.movie_id, title: r.title, viewCount: r.view_count, likeCount: r.like_count, ratingCount: r.rating_count,
    avgRating: r.avg_rating, recommendationCount: r.recommendation_count, clickThroughRate: r.click_through_rate,
  }));
}

export interface PopularityRow {
  date: string; viewCount: number; likeCount: number; ratingCount: number; avgRating: number | null; recommendationCount: number; clickThroughRate: number;
}

/** One movie's daily series, every day of the range (zeros where nothing happened). */
export async function popularitySeries(pool: pg.Pool, movieId: string, start: string, end: string): Promise<PopularityRow[]> {
  const res = await pool.query(
    `select to_char(d, 'YYYY-MM-DD') as date, coalesce(p.view_count, 0) as view_count, coalesce(p.like_count, 0) as like_count,
            coalesce(p.rating_count, 0) as rating_count, p.avg_rating::float8 as avg_rating,
            coalesce(p.recommendation_count, 0) as recommendation_count, coalesce(p.click_through_rate, 0)::float8 as ctr
       from generate_series($2::date, $3::date, interval '1 day') d
       left join popularity_metrics p on p.movie_id = $1::bigint and p."date" = d::date
      order by d`,
    [movieId, start, end],
  );
  return res.rows.map((r) => ({
    date: r.date, viewCount: r.view_count, likeCount: r.like_count, ratingCount: r.rating_count, avgRating: r.avg_rating,
    recommendationCount: r.recommendation_count, clickThroughRate: r.ctr,
  }));
}

export interface MethodPerformanceRow { method: string; requestCount: number; p50Ms: number; p95Ms: number; p99Ms: number; errorRate: number }

/** Percentiles and error rate per method from the flushed RPC histograms of the window; slowest p95 first. */
export async function performanceSummary(pool: pg.Pool, startTime: Date, endTime: Date, prefix: string): Promise<MethodPerformanceRow[]> {
  const res = await pool.query<{ endpoint: string; additional_data: { count: number; errors: number; hist: Record<string, number> } }>(
    `select endpoint, additional_data from performance_metrics
      where metric_name = $1 and "timestamp" >= $2 and "timestamp" < $3 and starts_with(coalesce(endpoint, ''), $4)`,
    [RPC_LATENCY_METRIC, startTime, endTime, prefix],
  );
  const by = new Map<string, { count: number; errors: number; hist: Histogram }>();
  for (const r of res.rows) {
    let m = by.get(r.endpoint);
    if (!m) by.set(r.endpoint, (m = { count: 0, errors: 0, hist: new Map() }));
    m.count += r.additional_data.count ?? 0;
    m.errors += r.additional_data.errors ?? 0;
    merge(m.hist, r.additional_data.hist ?? {});
  }
  return [...by]
    .map(([method, m]) => ({
      method, requestCount: m.count, p50Ms: percentile(m.hist, 0.5), p95Ms: percentile(m.hist, 0.95), p99Ms: percentile(m.hist, 0.99),
      errorRate: m.count === 0 ? 0 : m.errors / m.count,
    }))
    .sort((a, b) => b.p95Ms - a.p95Ms || a.method.localeCompare(b.method));
}

/**
 * Daily and 7-day active users for each day of the range: (day, user) pairs from the rollup for the days the
 * aggregation job has covered, from the raw log for later days; and the interactions (likes, ratings, views, …)
 * recorded that day, by their timestamp (idx_interactions_timestamp).
 */
export async function activeUsers(pool: pg.Pool, start: string, end: string): Promise<{ date: string; dau: number; wau: number; interactions: number }[]> {
  const res = await pool.query(
    `with covered as (select coalesce(max(day), '-infinity'::date) as last from analytics_daily_active_users),
     pairs as (
       select day, user_id from analytics_daily_active_users where day between $1::date - 6 and $2::date
       union
       select ("timestamp" at time zone 'UTC')::date, user_id from user_activity_logs, covered
        where user_id is not null and "timestamp" >= (greatest($1::date - 6, covered.last + 1))::timestamp at time zone 'UTC'
          and "timestamp" < ($2::date + 1)::timestamp at time zone 'UTC'),
     interactions as (
       select ("timestamp" at time zone 'UTC')::date as day, count(*)::int as n from user_movie_interactions
        where "timestamp" >= ($1::date)::timestamp at time zone 'UTC' and "timestamp" < ($2::date + 1)::timestamp at time zone 'UTC'
        group by 1)
     select to_char(d, 'YYYY-MM-DD') as date,
            (select count(distinct user_id) from pairs where day = d::date)::int as dau,
            (select count(distinct user_id) from pairs where day between d::date - 6 and d::date)::int as wau,
            coalesce((select n from interactions where day = d::date), 0) as interactions
       from generate_series($1::date, $2::date, interval '1 day') d order by d`,
    [start, end],
  );
  return res.rows;
}

/** Impressions (recommendations generated that day), clicks and CTR per day and algorithm. */
export async function recommendationCtr(pool: pg.Pool, start: string, end: string, algorithm: string | undefined) {
  const res = await pool.query<{ date: string; algorithm: string; impressions: number; clicks: number }>(
    `select to_char((generated_at at time zone 'UTC')::date, 'YYYY-MM-DD') as date, algorithm,
            count(*)::int as impressions, count(*) filter (where clicked)::int as clicks
       from user_recommendations
      where generated_at >= ($1::date)::timestamp at time zone 'UTC' and generated_at < ($2::date + 1)::timestamp at time zone 'UTC'
        and ($3::text is null or algorithm = $3)
      group by 1, 2 order by 1, 2`,
    [start, end, algorithm ?? null],
  );
  return res.rows.map((r) => ({ ...r, ctr: r.impressions === 0 ? 0 : r.clicks / r.impressions }));
}

/** Notifications created in the range per type, counted at each stage they reached (or passed). */
export async function notificationFunnel(pool: pg.Pool, start: string, end: string) {
  const res = await pool.query<{ type: string; sent: number; delivered: number; opened: number; clicked: number; failed: number }>(
    `select notification_type as type,
            count(*) filter (where sent_at is not null or status in ('sent', 'delivered', 'opened', 'clicked'))::int as sent,
            count(*) filter (where delivered_at is not null or status in ('delivered', 'opened', 'clicked'))::int as delivered,
            count(*) filter (where opened_at is not null or status in ('opened', 'clicked'))::int as opened,
            count(*) filter (where clicked_at is not null or status = 'clicked')::int as clicked,
            count(*) filter (where status = 'failed')::int as failed
       from notification_logs
      where created_at >= ($1::date)::timestamp at time zone 'UTC' and created_at < ($2::date + 1)::timestamp at time zone 'UTC'
      group by 1 order by 1`,
    [start, end],
  );
  return res.rows;
}
