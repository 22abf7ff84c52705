/**
 * What sets the alerts of alerts.ts off:
 * - recommendation alerts: after a user's rescoring has committed, their best fresh recommendation scoring at least
 *   `minScore` that they were never alerted about (one per rescoring; the outbox's per-day cap and preference
 *   switches apply as to every alert);
 * - new-release and trending alerts: a daily job on the `delivery` queue (ALERTS_CRON). New releases are the active
 *   movies released in the last `releaseDays` days, most popular first, each to the users who have one of its genres
 *   as a favourite; the trending movie is the one with the most interactions over the last day (at least
 *   `trendingMinInteractions`), sent to users who have not interacted with it. Users are read in id batches, and only
 *   those with the matching email or push switch on, so switched-off users cost no outbox rows.
 *
 * The movie, interaction and favourite-genre queries read the catalogue and recommendation tables directly (read-only,
 * set-based), as digests.ts does: neither module exports a batch read for this yet.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Logger } from "../../platform/logger.ts";
import type { AlertMovie, Alerts } from "./alerts.ts";
import { idArray } from "./notification-view.ts";

type Row = Record<string, unknown>;

export interface AlertTriggerDeps {
  orm: MikroORM;
  log: Logger;
  alerts: Alerts;
  /** A recommendation is alert-worthy from this score up (scores are 0–1). */
  minScore: number;
  /** Users per outbox batch. */
  batchSize?: number;
  /** A movie released within this many days (today included) is new. */
  releaseDays?: number;
  /** New releases alerted per daily run, most popular first (the per-day cap decides what each user gets). */
  maxReleases?: number;
  /** Fewer interactions over the last day than this and nothing is trending. */
  trendingMinInteractions?: number;
}

export interface DailyAlertsResult {
  newReleases: number;
  trending: string | null;
  /** Users for whom at least one alert notification was queued. */
  queued: number;
}

export function createAlertTriggers(deps: AlertTriggerDeps) {
  const batch = deps.batchSize ?? 1000;
  const releaseDays = deps.releaseDays ?? 2;
  const maxReleases = deps.maxReleases ?? 20;
  const trendingMin = deps.trendingMinInteractions ?? 5;

  const countQueued = (results: Map<string, { logs: unknown[] }>) => new Set([...results.entries()].filter(([, r]) => r.logs.length > 0).map(([k]) => k.split(":")[1])).size;

  /** Sends `kind` about `movie` to every user `usersSql` selects (after the `?` id cursor, in id order), batch by batch. */
  async function fanOut(kind: "new_release" | "trending", movie: AlertMovie, usersSql: string, params: unknown[]): Promise<number> {
    const em = deps.orm.em.fork();
    let after = "0";
    let queued = 0;
    for (;;) {
      const rows = await em.execute<Row[]>(`${usersSql} and u.id > ? order by u.id limit ?`, [...params, after, batch]);
      if (rows.length === 0) break;
      const ids = rows.map((r) => String(r.id));
      after = ids[ids.length - 1]!;
      queued += countQueued(await deps.alerts.send(kind, ids, movie));
      if (rows.length < batch) break;
    }
    return queued;
  }

  return {
    /**
     * Call after a rescoring transaction has committed (never inside it): queues a recommendation alert for each
     * user whose fresh list holds a movie scoring at least `minScore` not alerted before. Returns the users alerted.
     */
    async recommendationsRescored(userIds: readonly string[]): Promise<number> {
      if (userIds.length === 0) return 0;
      const picks = await deps.orm.em.fork().execute<Row[]>(
        `select u.uid, x.movie_id, x.title, x.score from unnest(?::bigint[]) as u(uid)
           join users us on us.id = u.uid and us.is_active
           left join notification_preferences p on p.user_id = u.uid
           cross join lateral (
             select i.movie_id, m.title, max(i.score) as score
               from user_recommendation_lists r cross join lateral unnest(r.movie_ids, r.scores) as i(movie_id, score)
               join movies m on m.id = i.movie_id and m.is_active
              where r.user_id = u.uid and i.score >= ?
                and r.generated_at = (select max(generated_at) from user_recommendation_lists g where g.user_id = u.uid)
                and not exists (select 1 from notification_requests q where q.idempotency_key in
                      ('recommendation_alert:' || u.uid || ':' || i.movie_id || ':email', 'recommendation_alert:' || u.uid || ':' || i.movie_id || ':push'))
                and not exists (select 1 from notification_logs l where l.request_key in
                      ('recommendation_alert:' || u.uid || ':' || i.movie_id || ':email', 'recommendation_alert:' || u.uid || ':' || i.movie_id || ':push'))
              group by i.movie_id, m.title order by max(i.score) desc, i.movie_id limit 1) x
          where coalesce(p.recommendation_alerts, true) or coalesce(p.push_recommendations, true)`,
        [idArray([...new Set(userIds)]), deps.minScore],
      );
      // Users alerted about the same movie share one outbox batch.
      const byMovie = new Map<string, { movie: AlertMovie; users: string[] }>();
      for (const p of picks) {
        const id = String(p.movie_id);
        const entry = byMovie.get(id) ?? { movie: { id, title: String(p.title), score: Number(p.score) }, users: [] };
        entry.users.push(String(p.uid));
        byMovie.set(id, entry);
      }
      let queued = 0;
      for (const { movie, users } of byMovie.values()) queued += countQueued(await deps.alerts.send("recommendation", users, movie));
      return queued;
    },

    /** The daily run: new releases in favourite genres, then the day's trending movie. */
    async daily(now: Date): Promise<DailyAlertsResult> {
      const em = deps.orm.em.fork();
      const today = now.toISOString().slice(0, 10);
      const releases = await em.execute<Row[]>(
        `select id, title from movies where is_active and release_date > ?::date - ? and release_date <= ?::date
          order by popularity_score desc, id limit ?`,
        [today, releaseDays, today, maxReleases],
      );
      let queued = 0;
      for (const m of releases) {
        queued += await fanOut(
          "new_release",
          { id: String(m.id), title: String(m.title) },
          `select distinct u.id from users u join notification_preferences p on p.user_id = u.id
             join user_profiles up on up.user_id = u.id join user_favorite_genres fg on fg.userprofile_id = up.id
             join movie_genres mg on mg.genre_id = fg.genre_id and mg.movie_id = ?
            where u.is_active and (p.new_release_alerts or p.push_new_releases)`,
          [m.id],
        );
      }
      const [top] = await em.execute<Row[]>(
        `select i.movie_id, m.title, count(*)::int as n from user_movie_interactions i join movies m on m.id = i.movie_id and m.is_active
          where i."timestamp" > ?::timestamptz - interval '1 day' and i."timestamp" <= ? and i.interaction_type <> 'dislike'
          group by i.movie_id, m.title order by n desc, i.movie_id limit 1`,
        [now, now],
      );
      let trending: string | null = null;
      if (top && Number(top.n) >= trendingMin) {
        trending = String(top.movie_id);
        queued += await fanOut(
          "trending",
          { id: trending, title: String(top.title) },
          `select u.id from users u join notification_preferences p on p.user_id = u.id
            where u.is_active and (p.trending_alerts or p.push_trending)
              and not exists (select 1 from user_movie_interactions i where i.user_id = u.id and i.movie_id = ?)`,
          [trending],
        );
      }
      const result = { newReleases: releases.length, trending, queued };
      deps.log.info(result, "daily alerts queued");
      return result;
    },
  };
}

export type AlertTriggers = ReturnType<typeof createAlertTriggers>;
