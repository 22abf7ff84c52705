/**
 * The daily aggregation of one UTC day: `popularity_metrics` per movie (views from the activity log; likes and
 * ratings from the interactions made that day; recommendations generated that day — items of the lists scored that
 * day — and how many of them were clicked, from the rows clicks wrote)
 * and the `analytics_daily_active_users` rollup. Idempotent for a day: in one transaction, under an advisory lock per
 * day, the day's rows are made exactly equal to what the sources say now (upsert, then delete movies no longer
 * active that day), so re-running or backfilling a day never double-counts.
 */
import type pg from "pg";
import { InvalidInputError } from "../../platform/errors.ts";

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `YYYY-MM-DD` of a Date in UTC. */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Every day from `start` to `end` inclusive (`YYYY-MM-DD`). */
export function daysBetween(start: string, end: string): string[] {
  if (!DAY.test(start) || !DAY.test(end)) throw new InvalidInputError("days must be YYYY-MM-DD");
  const days: string[] = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += 86_400_000) days.push(utcDay(new Date(t)));
  return days;
}

const POPULARITY_SQL = `
with b as (select ($1::date)::timestamp at time zone 'UTC' as lo, ($1::date + 1)::timestamp at time zone 'UTC' as hi),
views as (
  select movie_id, count(*) as n from user_activity_logs, b
   where "timestamp" >= b.lo and "timestamp" < b.hi and action_type = 'movie_view' and movie_id is not null group by movie_id),
likes as (
  select movie_id, count(*) as n from user_movie_interactions, b
   where "timestamp" >= b.lo and "timestamp" < b.hi and interaction_type = 'like' group by movie_id),
ratings as (
  select movie_id, count(*) as n, avg(rating) as a from user_movie_interactions, b
   where "timestamp" >= b.lo and "timestamp" < b.hi and interaction_type = 'rating' and rating is not null group by movie_id),
shown as (
  select i.movie_id, count(*) as n from user_recommendation_lists l cross join lateral unnest(l.movie_ids) as i(movie_id), b
   where l.generated_at >= b.lo and l.generated_at < b.hi and exists (select 1 from movies m where m.id = i.movie_id) group by i.movie_id),
clicks as (
  select movie_id, count(*) as c from user_recommendations, b
   where clicked and generated_at >= b.lo and generated_at < b.hi group by movie_id),
recs as (select movie_id, s.n, coalesce(k.c, 0) as c from shown s left join clicks k using (movie_id)),
day_movies as (select movie_id from views union select movie_id from likes union select movie_id from ratings union select movie_id from recs),
upserted as (
  insert into popularity_metrics (movie_id, "date", view_count, like_count, rating_count, avg_rating, recommendation_count, click_through_rate)
  select m.movie_id, $1::date, coalesce(v.n, 0), coalesce(l.n, 0), coalesce(r.n, 0), round(r.a, 2), coalesce(c.n, 0),
         case when coalesce(c.n, 0) = 0 then 0 else round(c.c::numeric / c.n, 4) end
    from day_movies m
    left join views v using (movie_id) left join likes l using (movie_id)
    left join ratings r using (movie_id) left join recs c using (movie_id)
  on conflict (movie_id, "date") do update set
    view_count = excluded.view_count, like_count = excluded.like_count, rating_count = excluded.rating_count,
    avg_rating = excluded.avg_rating, recommendation_count = excluded.recommendation_count,
    click_through_rate = excluded.click_through_rate
  returning movie_id)
delete from popularity_metrics p where p."date" = $1::date and p.movie_id not in (select movie_id from upserted)`;

const ACTIVE_USERS_SQL = `
insert into analytics_daily_active_users (day, user_id)
select distinct $1::date, user_id from user_activity_logs
 where "timestamp" >= ($1::date)::timestamp at time zone 'UTC' and "timestamp" < ($1::date + 1)::timestamp at time zone 'UTC'
   and user_id is not null
on conflict (day, user_id) do nothing`;

export interface DayAggregate {
  readonly day: string;
  readonly movies: number;
  readonly activeUsers: number;
  readonly ms: number;
}

/** Aggregates one UTC day (see the file comment). */
export async function aggregateDay(pool: pg.Pool, day: string): Promise<DayAggregate> {
  if (!DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) throw new InvalidInputError("day must be YYYY-MM-DD");
  const started = performance.now();
  const client = await pool.connect();
  try {
    await client.query("begin");
    // Two runs of the same day (a retry racing the schedule) would otherwise interleave their upserts and deletes.
    await client.query("select pg_advisory_xact_lock(hashtext('movierec.aggregate-day'), hashtext($1))", [day]);
    await client.query(POPULARITY_SQL, [day]);
    await client.query("delete from analytics_daily_active_users where day = $1::date", [day]);
    const active = await client.query(ACTIVE_USERS_SQL, [day]);
    const movies = await client.query<{ n: string }>(`select count(*)::text as n from popularity_metrics where "date" = $1::date`, [day]);
    await client.query("commit");
    return { day, movies: Number(movies.rows[0]!.n), activeUsers: active.rowCount ?? 0, ms: Math.round(performance.now() - started) };
  } catch (e) {
    await client.query("rollback").catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}
