/**
 * ExportMyData: everything stored about one user, as one JSON document (data portability). Reads the other
 * services' tables directly with SQL — read-only, by `user_id`, as the design defines them — so the export stays
 * complete without every module exporting a function for it. Secrets are left out: the password hash, refresh-token
 * hashes, and push tokens (only their last 6 characters are shown).
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { AccountView } from "./account-view.ts";

/** Sections of the document, each a query over one table by user id. */
const SECTIONS: Record<string, string> = {
  interactions: `select movie_id::text, interaction_type, rating, source, "timestamp" from user_movie_interactions where user_id = ? order by "timestamp"`,
  recommendationLists: `select algorithm, generated_at, movie_ids::text[] as movie_ids, scores from user_recommendation_lists where user_id = ? order by algorithm, id`,
  recommendations: `select id::text, movie_id::text, score, algorithm, generated_at, clicked, clicked_at from user_recommendations where user_id = ? order by generated_at, id`,
  feedback: `select recommendation_id::text, feedback_type, comment, "timestamp" from recommendation_feedback where user_id = ? order by "timestamp"`,
  notificationPreferences: `select weekly_digest, recommendation_alerts, trending_alerts, new_release_alerts, push_recommendations, push_trending,
      push_new_releases, digest_day, digest_time, timezone, created_at, updated_at from notification_preferences where user_id = ?`,
  devices: `select id::text, '…' || right(device_token, 6) as device_token_end, device_type, device_name, is_active, registered_at, last_used_at
      from user_devices where user_id = ? order by registered_at`,
  notifications: `select notification_type, subject, content, recipient, status, sent_at, delivered_at, opened_at, clicked_at, created_at
      from notification_logs where user_id = ? order by created_at`,
  activity: `select session_id, action_type, movie_id::text, host(ip_address) as ip_address, user_agent, referer, source, metadata, "timestamp"
      from user_activity_logs where user_id = ? order by "timestamp"`,
  performanceMetrics: `select metric_name, metric_value, metric_unit, endpoint, "timestamp" from performance_metrics where user_id = ? order by "timestamp"`,
  impressions: `select surface, movie_id::text, position, algorithm, variant, shown_at, clicked_at, converted_at, conversion_type
      from recommendation_impressions where user_id = ? order by shown_at, id`,
  sessions: `select created_at, last_used_at, expires_at, revoked_at, revoked_reason, user_agent from user_sessions where user_id = ? order by created_at`,
};

/** The export document of `account`'s user. */
export async function exportUserData(em: EntityManager, account: AccountView): Promise<Record<string, unknown>> {
  const { user, profile } = account;
  const doc: Record<string, unknown> = {
    account: {
      id: user.id,
      username: user.username,
      email: user.email,
      firstName: user.firstName,
      lastName: user.lastName,
      dateOfBirth: user.dateOfBirth ?? null,
      phoneNumber: account.phoneNumber || null,
      isStaff: user.isStaff,
      isActive: user.isActive,
      isPremium: user.isPremium,
      dateJoined: user.dateJoined,
      lastLogin: user.lastLogin ?? null,
      createdAt: user.createdAt,
      updatedAt: user.updatedAt,
    },
    profile: {
      bio: profile.bio,
      avatarUrl: profile.avatar ?? null,
      preferredLanguage: profile.preferredLanguage,
      timezone: profile.timezone,
      country: profile.country,
      createdAt: profile.createdAt,
      updatedAt: profile.updatedAt,
    },
    favoriteGenres: account.favoriteGenres,
  };
  for (const [name, sql] of Object.entries(SECTIONS)) {
    doc[name] = await em.execute(sql, [user.id]);
  }
  return doc;
}
