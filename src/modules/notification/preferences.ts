/**
 * Notification preferences: one row per user, created with the account (user module) and, for accounts made
 * before that, on first read with the design's defaults.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import { InvalidInputError } from "../../platform/errors.ts";

export interface Preferences {
  weeklyDigest: boolean;
  recommendationAlerts: boolean;
  trendingAlerts: boolean;
  newReleaseAlerts: boolean;
  pushRecommendations: boolean;
  pushTrending: boolean;
  pushNewReleases: boolean;
  /** ISO weekday, 1 = Monday. */
  digestDay: number;
  /** "HH:MM" local time. */
  digestTime: string;
  timezone: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The boolean switches, by their API (and column) names. */
export const PREFERENCE_FLAGS = {
  weekly_digest: "weeklyDigest",
  recommendation_alerts: "recommendationAlerts",
  trending_alerts: "trendingAlerts",
  new_release_alerts: "newReleaseAlerts",
  push_recommendations: "pushRecommendations",
  push_trending: "pushTrending",
  push_new_releases: "pushNewReleases",
} as const;
export type PreferenceFlag = keyof typeof PREFERENCE_FLAGS;

const COLUMNS = `weekly_digest, recommendation_alerts, trending_alerts, new_release_alerts, push_recommendations, push_trending,
  push_new_releases, digest_day, to_char(digest_time, 'HH24:MI') as digest_time, timezone, created_at, updated_at`;

type Row = Record<string, unknown>;

/** A row of notification_preferences (selected with COLUMNS) in domain form. */
export function toPreferences(r: Row): Preferences {
  return {
    weeklyDigest: r.weekly_digest as boolean,
    recommendationAlerts: r.recommendation_alerts as boolean,
    trendingAlerts: r.trending_alerts as boolean,
    newReleaseAlerts: r.new_release_alerts as boolean,
    pushRecommendations: r.push_recommendations as boolean,
    pushTrending: r.push_trending as boolean,
    pushNewReleases: r.push_new_releases as boolean,
    digestDay: Number(r.digest_day),
    digestTime: r.digest_time as string,
    timezone: r.timezone as string,
    createdAt: new Date(r.created_at as string),
    updatedAt: new Date(r.updated_at as string),
  };
}

const zoneCache = new Map<string, boolean>();

/** True for a time zone the runtime's ICU knows (IANA names and their aliases, e.g. "UTC", "Europe/Paris"). */
export function isValidTimeZone(tz: string): boolean {
  let ok = zoneCache.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
      ok = tz.length <= 50;
    } catch {
      ok = false;
    }
    if (zoneCache.size < 10_000) zoneCache.set(tz, ok);
  }
  return ok;
}

export interface PreferencesUpdate {
  flags?: Partial<Record<PreferenceFlag, boolean>>;
  digestDay?: number;
  digestTime?: string;
  timezone?: string;
}

export function createPreferences(deps: { orm: MikroORM }) {
  const get = async (userId: string): Promise<Preferences> => {
    const em = deps.orm.em.fork();
    let rows = await em.execute<Row[]>(`select ${COLUMNS} from notification_preferences where user_id = ?`, [userId]);
    if (rows.length === 0) {
      // Accounts created before preferences existed: the design's defaults, made on first read.
      await em.execute("insert into notification_preferences (user_id) values (?) on conflict (user_id) do nothing", [userId]);
      rows = await em.execute<Row[]>(`select ${COLUMNS} from notification_preferences where user_id = ?`, [userId]);
    }
    return toPreferences(rows[0]!);
  };

  return {
    get,
    /** Applies only the fields present; validates day, time and zone (the API's rules, again, for other callers). */
    async update(userId: string, patch: PreferencesUpdate): Promise<Preferences> {
      const sets: string[] = [];
      const params: unknown[] = [];
      for (const [flag, value] of Object.entries(patch.flags ?? {})) {
        if (!(flag in PREFERENCE_FLAGS)) throw new InvalidInputError("unknown preference", flag);
        sets.push(`${flag} = ?`);
        params.push(value === true);
      }
      if (patch.digestDay !== undefined) {
        if (!Number.isInteger(patch.digestDay) || patch.digestDay < 1 || patch.digestDay > 7) throw new InvalidInputError("must be 1 (Monday) to 7 (Sunday)", "preferences.digest_day");
        sets.push("digest_day = ?");
        params.push(patch.digestDay);
      }
      if (patch.digestTime !== undefined) {
        if (!/^([01][0-9]|2[0-3]):[0-5][0-9]$/.test(patch.digestTime)) throw new InvalidInputError('must be "HH:MM"', "preferences.digest_time");
        sets.push("digest_time = ?::time");
        params.push(`${patch.digestTime}:00`);
      }
      if (patch.timezone !== undefined) {
        if (!isValidTimeZone(patch.timezone)) throw new InvalidInputError(`unknown time zone ${JSON.stringify(patch.timezone)}`, "preferences.timezone");
        sets.push("timezone = ?");
        params.push(patch.timezone);
      }
      await get(userId); // makes sure the row exists
      if (sets.length > 0) {
        await deps.orm.em.fork().execute(`update notification_preferences set ${sets.join(", ")}, updated_at = now() where user_id = ?`, [...params, userId]);
      }
      return get(userId);
    },
  };
}

export type PreferencesStore = ReturnType<typeof createPreferences>;
