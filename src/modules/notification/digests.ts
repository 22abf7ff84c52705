/**
 * The weekly digest scheduler, run by the repeating `digest-tick` job. Each tick covers the instants since the last
 * tick, finds the users due in that span through the design's (digest_day, digest_time) index, in batches by
 * user id, and queues one digest per user and ISO week (idempotency key `digest:<user>:<week>`), with their top
 * recommendations and the week's new releases in their favourite genres. Nothing per user is held in Redis.
 *
 * The content queries read the recommendation and catalogue tables directly (read-only, set-based for a whole
 * batch): neither module exports a batch read for 1,000 users at once yet; see the README's notes.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import type { Logger } from "../../platform/logger.ts";
import { dueWindows, isoWeek, minuteToTime, type DueWindow } from "./digest-schedule.ts";
import { idArray } from "./notification-view.ts";
import type { Outbox, QueueRequest } from "./outbox.ts";
import type { NotificationEvaluationHooks } from "./sent-lists.ts";
import type { Template, TemplateStore } from "./templates.ts";

const BATCH = 1000;
const LAST_TICK_KEY = "notification:digest:last-tick";
const LOCK_KEY = "notification:digest:lock";

/** Used when staff have not stored an active email_weekly_digest template. */
export const BUILTIN_DIGEST: Template = {
  id: "",
  name: "builtin-weekly-digest",
  templateType: "email_weekly_digest",
  subject: "Your week in movies{{#user.first_name}}, {{user.first_name}}{{/user.first_name}}",
  htmlContent:
    '<html><body><h1>Picked for you</h1><ul>{{#movies}}<li><a href="{{url}}">{{title}}</a></li>{{/movies}}</ul>' +
    "{{#new_releases.length}}<h2>New this week in your genres</h2><ul>{{#new_releases}}<li><a href=\"{{url}}\">{{title}}</a> ({{release_date}})</li>{{/new_releases}}</ul>{{/new_releases.length}}" +
    '<p><a href="{{unsubscribe_url}}">Unsubscribe from the weekly digest</a></p></body></html>',
  textContent:
    "Picked for you:\n{{#movies}}- {{title}} {{url}}\n{{/movies}}{{#new_releases.length}}\nNew this week in your genres:\n{{#new_releases}}- {{title}} ({{release_date}})\n{{/new_releases}}{{/new_releases.length}}",
  isActive: true,
  createdAt: new Date(0),
  updatedAt: new Date(0),
};

type Row = Record<string, unknown>;

export interface DigestDeps {
  orm: MikroORM;
  redis: Redis;
  log: Logger;
  outbox: Outbox;
  templates: TemplateStore;
  /** Where movie links point, e.g. https://app.example.com/movies/<id>. */
  movieUrl: (movieId: string) => string;
  tickMs: number;
  /** Online evaluation: the movies of each digest queued (impressions). */
  evaluation?: NotificationEvaluationHooks;
}

export function createDigests(deps: DigestDeps) {
  async function template(): Promise<Template> {
    try {
      return await deps.templates.activeOfType("email_weekly_digest");
    } catch {
      return BUILTIN_DIGEST;
    }
  }

  /** Top recommendations and new releases in favourite genres for a batch of users, in two set-based queries. */
  async function content(userIds: string[]): Promise<Map<string, { movies: Row[]; new_releases: Row[] }>> {
    const em = deps.orm.em.fork();
    const out = new Map(userIds.map((id) => [id, { movies: [] as Row[], new_releases: [] as Row[] }]));
    for (const r of await em.execute<Row[]>(
      `select u.uid, x.id, x.title from unnest(?::bigint[]) as u(uid) cross join lateral (
         select m.id, m.title
           from (select distinct on (algorithm) movie_ids, scores from user_recommendation_lists
                  where user_id = u.uid order by algorithm, id desc) r
           cross join lateral unnest(r.movie_ids, r.scores) as i(movie_id, score)
           join movies m on m.id = i.movie_id
          where m.is_active group by m.id, m.title order by max(i.score) desc, m.id limit 5) x`,
      [idArray(userIds)],
    )) out.get(String(r.uid))?.movies.push({ id: String(r.id), title: r.title, url: deps.movieUrl(String(r.id)) });
    for (const r of await em.execute<Row[]>(
      `select u.uid, x.id, x.title, x.release_date from unnest(?::bigint[]) as u(uid) cross join lateral (
         select distinct m.id, m.title, m.release_date::text as release_date, m.popularity_score from user_profiles up
           join user_favorite_genres fg on fg.userprofile_id = up.id
           join movie_genres mg on mg.genre_id = fg.genre_id
           join movies m on m.id = mg.movie_id
          where up.user_id = u.uid and m.is_active and m.release_date > current_date - 7 and m.release_date <= current_date
          order by m.popularity_score desc limit 5) x`,
      [idArray(userIds)],
    )) out.get(String(r.uid))?.new_releases.push({ id: String(r.id), title: r.title, release_date: r.release_date, url: deps.movieUrl(String(r.id)) });
    return out;
  }

  /** Queues the digests due in (from, to]; returns how many users were due and how many digests were new. */
  async function runWindow(from: Date, to: Date): Promise<{ due: number; queued: number }> {
    const em = deps.orm.em.fork();
    const zones = (await em.execute<Row[]>("select distinct timezone from notification_preferences where weekly_digest")).map((r) => r.timezone as string);
    // Zones with the same local windows share one query (most of the world is on a handful of offsets).
    const groups = new Map<string, { windows: DueWindow[]; zones: string[] }>();
    for (const tz of zones) {
      let windows: DueWindow[];
      try {
        windows = dueWindows(from, to, tz);
      } catch {
        continue; // a zone the runtime no longer knows; preferences validate new ones
      }
      if (windows.length === 0) continue;
      const key = JSON.stringify(windows);
      const g = groups.get(key) ?? { windows, zones: [] };
      g.zones.push(tz);
      groups.set(key, g);
    }
    const tpl = await template();
    let due = 0;
    let queued = 0;
    for (const { windows, zones: tzs } of groups.values()) {
      for (const w of windows) {
        let after = "0";
        for (;;) {
          const query = dueUsersSql(w, tzs, after, BATCH);
          const users = await em.execute<Row[]>(query.sql, query.params);
          if (users.length === 0) break;
          const ids = users.map((u) => String(u.user_id));
          after = ids[ids.length - 1]!;
          const data = await content(ids);
          const week = isoWeek(w.date);
          const requests: QueueRequest[] = ids.map((id) => ({
            idempotencyKey: `digest:${id}:${week}`,
            userId: id,
            kind: "digest",
            template: tpl,
            data: { ...data.get(id), week },
          }));
          const results = await deps.outbox.queue(requests);
          due += ids.length;
          for (const req of requests) {
            const r = results.get(req.idempotencyKey);
            if (!r || r.duplicate || r.logs.length === 0) continue;
            queued++;
            const c = data.get(req.userId);
            const ids = (rows: Row[] | undefined) => (rows ?? []).map((m) => String(m.id));
            deps.evaluation?.sent?.({ surface: "digest", userId: req.userId, requestId: req.idempotencyKey, algorithm: "digest_picks", movieIds: ids(c?.movies) });
            deps.evaluation?.sent?.({ surface: "digest", userId: req.userId, requestId: `${req.idempotencyKey}:new`, algorithm: "new_releases", movieIds: ids(c?.new_releases) });
          }
          if (users.length < BATCH) break;
        }
      }
    }
    return { due, queued };
  }

  return {
    runWindow,
    /** One scheduler run: from the last tick (at most a day back) to `now`, under a Redis lock. */
    async tick(now: Date): Promise<{ due: number; queued: number } | "locked"> {
      const token = `${process.pid}:${now.getTime()}`;
      if ((await deps.redis.set(LOCK_KEY, token, "PX", 10 * 60_000, "NX")) !== "OK") return "locked";
      try {
        const last = Number(await deps.redis.get(LAST_TICK_KEY)) || now.getTime() - deps.tickMs;
        const from = new Date(Math.max(last, now.getTime() - 86_400_000));
        const result = await runWindow(from, now);
        // Advanced only after the window is queued: a crash re-runs it, and the idempotency keys absorb that.
        await deps.redis.set(LAST_TICK_KEY, String(now.getTime()));
        if (result.due > 0) deps.log.info(result, "weekly digests queued");
        return result;
      } finally {
        if ((await deps.redis.get(LOCK_KEY)) === token) await deps.redis.del(LOCK_KEY);
      }
    },
  };
}

export type Digests = ReturnType<typeof createDigests>;

/**
 * The query of the users due in one window (a weekday and a span of minutes of day) in the given zones, a batch at a
 * time after `after`: it reads notification_preferences through idx_notification_prefs_digest (digest_day,
 * digest_time), checked by EXPLAIN in tests/notification/digest-index.test.ts.
 */
export function dueUsersSql(w: { day: number; afterMinute: number; untilMinute: number }, tzs: readonly string[], after: string, limit: number): { sql: string; params: unknown[] } {
  return {
    sql: `select p.user_id from notification_preferences p join users u on u.id = p.user_id
              where p.digest_day = ? and ${w.afterMinute >= 0 ? "p.digest_time > ?::time and" : ""} p.digest_time <= ?::time
                and p.timezone = any(?::text[]) and p.weekly_digest and u.is_active and p.user_id > ?
              order by p.user_id limit ?`,
    params: [w.day, ...(w.afterMinute >= 0 ? [minuteToTime(w.afterMinute)] : []), minuteToTime(w.untilMinute), `{${tzs.map((z) => JSON.stringify(z)).join(",")}}`, after, limit],
  };
}
