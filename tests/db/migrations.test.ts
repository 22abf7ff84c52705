/**
 * The initial migration, from an empty database: every table, column, index and constraint of the design exists;
 * rolling back leaves nothing but the migrations table; applying again works.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDown, migrateUp, pendingMigrations } from "../../src/platform/migrations.ts";
import { type MigratedDatabase, openTestDatabase, sql } from "./helpers.ts";

/** Every table of the design (schema.md) with exactly its columns; `movies.is_active` is our addition. */
const DESIGN_COLUMNS: Record<string, string[]> = {
  users: [
    "id", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "email", "is_staff",
    "is_active", "date_joined", "date_of_birth", "is_premium", "phone_number", "created_at", "updated_at",
  ],
  user_profiles: ["id", "user_id", "bio", "avatar", "preferred_language", "timezone", "country", "created_at", "updated_at"],
  genres: ["id", "tmdb_id", "name", "slug", "created_at"],
  movies: [
    "id", "tmdb_id", "imdb_id", "title", "original_title", "overview", "tagline", "release_date", "runtime", "budget",
    "revenue", "status", "tmdb_rating", "tmdb_vote_count", "imdb_rating", "our_rating", "poster_path", "backdrop_path",
    "popularity_score", "view_count", "like_count", "adult", "video", "original_language", "is_active", "created_at",
    "updated_at",
  ],
  movie_genres: ["id", "movie_id", "genre_id"],
  user_favorite_genres: ["id", "userprofile_id", "genre_id"],
  persons: [
    "id", "tmdb_id", "name", "biography", "birthday", "deathday", "place_of_birth", "profile_path",
    "known_for_department", "popularity", "created_at",
  ],
  movie_cast: ["id", "movie_id", "person_id", "character", "order", "created_at"],
  movie_crew: ["id", "movie_id", "person_id", "job", "department", "created_at"],
  production_companies: ["id", "tmdb_id", "name", "logo_path", "origin_country", "created_at"],
  movie_production_companies: ["id", "movie_id", "production_company_id"],
  user_movie_interactions: ["id", "user_id", "movie_id", "interaction_type", "rating", "source", "timestamp"],
  user_recommendations: ["id", "user_id", "movie_id", "score", "algorithm", "generated_at", "clicked", "clicked_at"],
  recommendation_feedback: ["id", "user_id", "recommendation_id", "feedback_type", "comment", "timestamp"],
  notification_preferences: [
    "id", "user_id", "weekly_digest", "recommendation_alerts", "trending_alerts", "new_release_alerts",
    "push_recommendations", "push_trending", "push_new_releases", "digest_day", "digest_time", "timezone",
    "created_at", "updated_at",
  ],
  notification_templates: [
    "id", "name", "template_type", "subject", "html_content", "text_content", "is_active", "created_at", "updated_at",
  ],
  notification_logs: [
    "id", "user_id", "template_id", "notification_type", "subject", "content", "recipient", "status", "external_id",
    "error_message", "sent_at", "delivered_at", "opened_at", "clicked_at", "created_at",
    // Not in the design: the outbox state of exactly-once delivery (migration 0005-notification-delivery).
    "request_key", "html_content", "payload", "attempts", "claim_token", "lease_until",
  ],
  user_devices: ["id", "user_id", "device_token", "device_type", "device_name", "is_active", "registered_at", "last_used_at"],
  user_activity_logs: [
    "id", "user_id", "session_id", "action_type", "movie_id", "ip_address", "user_agent", "referer", "source",
    "metadata", "timestamp",
  ],
  performance_metrics: [
    "id", "metric_name", "metric_value", "metric_unit", "endpoint", "user_id", "additional_data", "timestamp",
  ],
  popularity_metrics: [
    "id", "movie_id", "date", "view_count", "like_count", "rating_count", "avg_rating", "recommendation_count",
    "click_through_rate",
  ],
  audit_log: [
    "id", "table_name", "operation", "old_values", "new_values", "user_id", "timestamp",
    // Not in the design: what an audit row must say (migration 0014-online-evaluation).
    "action", "record_id", "actor_type", "actor_name", "client_address", "request_id",
  ],
  // Not in the design: TMDb keywords (migration 0002-catalog-keywords).
  keywords: ["id", "tmdb_id", "name", "created_at"],
  movie_keywords: ["id", "movie_id", "keyword_id"],
  // Not in the design: login sessions and their refresh tokens (migration 0003-user-sessions).
  user_sessions: ["id", "user_id", "user_agent", "created_at", "last_used_at", "expires_at", "revoked_at", "revoked_reason"],
  user_refresh_tokens: ["id", "session_id", "token_hash", "created_at", "used_at"],
  // Not in the design: idempotency keys of logical notifications (migration 0005-notification-delivery).
  notification_requests: ["id", "idempotency_key", "user_id", "kind", "created_at"],
  // Not in the design: keyed TrackEvents batches and the daily active-user rollup (migration 0006-analytics).
  analytics_ingest_batches: [
    "id", "caller_key", "batch_key", "processed_count", "accepted_count", "rejected_count", "rejected", "completed_at", "created_at",
    "updated_at",
  ],
  analytics_daily_active_users: ["id", "day", "user_id"],
  // Not in the design: the rescoring outbox (migration 0011-rescore-requests).
  rescore_requests: ["id", "user_id", "requested_at"],
  // Not in the design: the scored lists, one row per (user, algorithm) (migration 0018-recommendation-lists).
  user_recommendation_lists: ["id", "user_id", "algorithm", "generated_at", "movie_ids", "scores"],
  // Not in the design: the title vocabulary of the typo-tolerant search (migration 0012-title-words).
  movie_title_words: ["word"],
  // Not in the design: experiments, serving defaults and shown impressions (migration 0014-online-evaluation).
  experiments: [
    "id", "name", "surface", "salt", "status", "variants", "min_sample_per_variant", "started_at", "stopped_at", "promoted_variant",
    "created_by", "created_at", "updated_at",
  ],
  serving_defaults: ["id", "surface", "algorithm", "experiment_id", "variant", "updated_at"],
  recommendation_impressions: [
    "id", "request_key", "user_id", "movie_id", "surface", "algorithm", "experiment_id", "variant", "position", "shown_at",
    "clicked_at", "converted_at", "conversion_type",
  ],
};

/** Every migration, in order. */
const ALL_MIGRATIONS = [
  "0001-initial-schema", "0002-catalog-keywords", "0003-user-sessions", "0004-catalog-search", "0005-notification-delivery", "0006-analytics",
  "0011-rescore-requests", "0012-title-words", "0014-online-evaluation", "0015-title-words-knn", "0016-title-knn", "0017-profile-per-user",
  "0018-recommendation-lists",
];

/** Every index the design names, plus the ones we add (see /tmp/db-decisions.md). */
const INDEXES: Record<string, string[]> = {
  users: ["idx_users_email", "idx_users_username", "idx_users_is_active", "idx_users_email_lower_unique"],
  user_profiles: ["idx_user_profiles_user", "idx_user_profiles_country"],
  genres: ["idx_genres_tmdb_id", "idx_genres_slug"],
  movies: [
    "idx_movies_tmdb_id", "idx_movies_title", "idx_movies_release_date", "idx_movies_popularity", "idx_movies_rating",
    "idx_movies_status", "idx_movies_rating_popularity", "idx_movies_active", "idx_movies_title_search",
    "idx_movies_title_trgm",
    // Not in the design: catalogue search and keyset paging (migration 0004-catalog-search).
    "idx_movies_search_document", "idx_movies_original_title_trgm", "idx_movies_popularity_id", "idx_movies_rating_id",
    "idx_movies_release_date_id", "idx_movies_title_id",
  ],
  movie_genres: ["idx_movie_genres_movie", "idx_movie_genres_genre"],
  user_favorite_genres: ["idx_user_fav_genres_profile", "idx_user_fav_genres_genre"],
  persons: ["idx_persons_tmdb_id", "idx_persons_name", "idx_persons_department", "idx_persons_name_search", "idx_persons_name_trgm"],
  movie_cast: ["idx_movie_cast_movie", "idx_movie_cast_person", "idx_movie_cast_order"],
  movie_crew: ["idx_movie_crew_movie", "idx_movie_crew_person", "idx_movie_crew_job"],
  movie_production_companies: ["idx_movie_companies_company"],
  user_movie_interactions: [
    "idx_interactions_user_type", "idx_interactions_movie_type", "idx_interactions_timestamp", "idx_interactions_rating",
    "idx_interactions_user_movie_type",
  ],
  user_recommendations: [
    "idx_recommendations_user_score", "idx_recommendations_generated", "idx_recommendations_algorithm",
    "idx_recommendations_clicked", "idx_recommendations_user_score_generated", "idx_recommendations_movie",
  ],
  recommendation_feedback: ["idx_feedback_user", "idx_feedback_recommendation", "idx_feedback_type"],
  notification_preferences: ["idx_notification_prefs_user", "idx_notification_prefs_digest"],
  notification_templates: ["idx_templates_type", "idx_templates_active"],
  notification_logs: [
    "idx_notification_logs_user", "idx_notification_logs_status", "idx_notification_logs_type",
    "idx_notification_logs_created", "idx_notifications_pending", "idx_notification_logs_template",
    "idx_notification_logs_request",
  ],
  notification_requests: ["idx_notification_requests_user_time", "idx_notification_requests_created"],
  user_devices: ["idx_user_devices_user", "idx_user_devices_active", "idx_user_devices_type"],
  user_activity_logs: [
    "idx_activity_logs_user_action", "idx_activity_logs_timestamp", "idx_activity_logs_movie_action",
    "idx_activity_logs_session", "idx_activity_logs_source", "idx_activity_logs_metadata",
  ],
  performance_metrics: [
    "idx_performance_metrics_name_time", "idx_performance_metrics_endpoint_time", "idx_performance_metrics_timestamp",
    "idx_performance_metrics_user",
  ],
  popularity_metrics: [
    "idx_popularity_metrics_movie", "idx_popularity_metrics_date", "idx_popularity_metrics_views",
    "idx_popularity_metrics_ctr",
  ],
  audit_log: ["idx_audit_log_table_time", "idx_audit_log_user", "idx_audit_log_time", "idx_audit_log_action_time"],
  experiments: ["idx_experiments_one_running"],
  recommendation_impressions: ["idx_impressions_user_movie", "idx_impressions_shown", "idx_impressions_movie", "idx_impressions_experiment"],
  keywords: ["idx_keywords_name"],
  movie_keywords: ["idx_movie_keywords_keyword"],
  user_recommendation_lists: ["idx_recommendation_lists_user"],
};

/** Every foreign key as `table.column -> target ON DELETE rule`. */
const FOREIGN_KEYS = [
  "rescore_requests.user_id -> users CASCADE",
  "user_recommendation_lists.user_id -> users CASCADE",
  "user_profiles.user_id -> users CASCADE",
  "movie_genres.movie_id -> movies CASCADE",
  "movie_genres.genre_id -> genres CASCADE",
  "user_favorite_genres.userprofile_id -> user_profiles CASCADE",
  "user_favorite_genres.genre_id -> genres CASCADE",
  "movie_cast.movie_id -> movies CASCADE",
  "movie_cast.person_id -> persons CASCADE",
  "movie_crew.movie_id -> movies CASCADE",
  "movie_crew.person_id -> persons CASCADE",
  "movie_production_companies.movie_id -> movies CASCADE",
  "movie_production_companies.production_company_id -> production_companies CASCADE",
  "user_movie_interactions.user_id -> users CASCADE",
  "user_movie_interactions.movie_id -> movies CASCADE",
  "user_recommendations.user_id -> users CASCADE",
  "user_recommendations.movie_id -> movies CASCADE",
  "recommendation_feedback.user_id -> users CASCADE",
  "recommendation_feedback.recommendation_id -> user_recommendations CASCADE",
  "notification_preferences.user_id -> users CASCADE",
  "notification_logs.user_id -> users CASCADE",
  "notification_logs.template_id -> notification_templates SET NULL",
  "user_devices.user_id -> users CASCADE",
  "user_activity_logs.user_id -> users SET NULL",
  "user_activity_logs.movie_id -> movies SET NULL",
  "performance_metrics.user_id -> users SET NULL",
  "popularity_metrics.movie_id -> movies CASCADE",
  "user_sessions.user_id -> users CASCADE",
  "user_refresh_tokens.session_id -> user_sessions CASCADE",
  "movie_keywords.movie_id -> movies CASCADE",
  "movie_keywords.keyword_id -> keywords CASCADE",
  "notification_requests.user_id -> users CASCADE",
  "analytics_daily_active_users.user_id -> users CASCADE",
  "serving_defaults.experiment_id -> experiments SET NULL",
  "recommendation_impressions.user_id -> users CASCADE",
  "recommendation_impressions.movie_id -> movies CASCADE",
  "recommendation_impressions.experiment_id -> experiments SET NULL",
];

let t: MigratedDatabase;

beforeAll(async () => {
  t = await openTestDatabase("db_migrations", { migrate: false });
});
afterAll(async () => {
  await t?.close();
});

/** Tables (plain and partitioned, but not partitions) in the public schema. */
async function tables(): Promise<string[]> {
  const rows = await sql<{ name: string }>(
    t.orm,
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition order by 1`,
  );
  return rows.map((r) => r.name);
}

async function hasExtension(name: string): Promise<boolean> {
  const rows = await sql(t.orm, "select 1 from pg_extension where extname = ?", [name]);
  return rows.length === 1;
}

describe("initial migration", () => {
  it("is pending on an empty database and applies from zero", async () => {
    expect(await pendingMigrations(t.orm)).toEqual(ALL_MIGRATIONS);
    expect(await migrateUp(t.orm)).toEqual(ALL_MIGRATIONS);
    expect(await pendingMigrations(t.orm)).toEqual([]);
    expect(await migrateUp(t.orm)).toEqual([]);
  });

  it("creates every table of the design with exactly its columns", async () => {
    expect(await tables()).toEqual([...Object.keys(DESIGN_COLUMNS), "mikro_orm_migrations"].sort());
    const rows = await sql<{ table_name: string; column_name: string }>(
      t.orm,
      `select table_name, column_name from information_schema.columns where table_schema = 'public'`,
    );
    for (const [table, columns] of Object.entries(DESIGN_COLUMNS)) {
      const actual = rows.filter((r) => r.table_name === table).map((r) => r.column_name);
      expect(actual.sort(), table).toEqual([...columns].sort());
    }
  });

  it("uses timestamptz for every time column and bigint identity for every id", async () => {
    const naive = await sql(
      t.orm,
      `select table_name, column_name from information_schema.columns
        where table_schema = 'public' and data_type = 'timestamp without time zone'`,
    );
    expect(naive).toEqual([]);
    const ids = await sql<{ table_name: string; data_type: string; is_identity: string }>(
      t.orm,
      `select c.table_name, c.data_type, c.is_identity from information_schema.columns c
         join pg_class k on k.relname = c.table_name and not k.relispartition
        where c.table_schema = 'public' and c.column_name = 'id' and c.table_name <> 'mikro_orm_migrations'`,
    );
    // movie_title_words is keyed by its word: a vocabulary, not rows with an identity.
    expect(ids.map((r) => r.table_name).sort()).toEqual(Object.keys(DESIGN_COLUMNS).filter((name) => name !== "movie_title_words").sort());
    for (const r of ids) expect([r.table_name, r.data_type, r.is_identity]).toEqual([r.table_name, "bigint", "YES"]);
  });

  it("creates every named index on its table", async () => {
    const rows = await sql<{ tablename: string; indexname: string }>(
      t.orm,
      "select tablename, indexname from pg_indexes where schemaname = 'public'",
    );
    for (const [table, names] of Object.entries(INDEXES)) {
      const actual = new Set(rows.filter((r) => r.tablename === table).map((r) => r.indexname));
      for (const name of names) expect(actual.has(name), `${table}.${name}`).toBe(true);
    }
  });

  it("builds the special indexes as the design describes them", async () => {
    const defs = new Map(
      (await sql<{ indexname: string; indexdef: string }>(t.orm, "select indexname, indexdef from pg_indexes where schemaname = 'public'")).map(
        (r) => [r.indexname, r.indexdef],
      ),
    );
    expect(defs.get("idx_movies_title_search")).toMatch(/USING gin \(to_tsvector\('english'::regconfig, \(title\)::text\)\)/);
    expect(defs.get("idx_persons_name_search")).toMatch(/USING gin \(to_tsvector\('english'::regconfig, \(name\)::text\)\)/);
    expect(defs.get("idx_activity_logs_metadata")).toMatch(/USING gin \(metadata\)/);
    expect(defs.get("idx_notifications_pending")).toMatch(/WHERE \(\(status\)::text = 'pending'::text\)/);
    expect(defs.get("idx_movies_active")).toMatch(/WHERE \(is_active = true\)/);
    expect(defs.get("idx_interactions_rating")).toMatch(/WHERE \(rating IS NOT NULL\)/);
    expect(defs.get("idx_users_email_lower_unique")).toMatch(/CREATE UNIQUE INDEX .* \(lower\(\(email\)::text\)\)/);
    expect(defs.get("idx_movies_release_date")).toMatch(/\(release_date DESC\)/);
    expect(defs.get("idx_recommendations_user_score_generated")).toMatch(/\(user_id, score DESC, generated_at DESC\)/);
    expect(defs.get("idx_movies_title_trgm")).toMatch(/gin_trgm_ops/);
  });

  it("names the design's constraints as the design does", async () => {
    const rows = await sql<{ conname: string; table: string }>(
      t.orm,
      "select conname, conrelid::regclass::text as table from pg_constraint where connamespace = 'public'::regnamespace",
    );
    const names = new Set(rows.map((r) => `${r.table}.${r.conname}`));
    for (const name of [
      "movie_genres.unique_movie_genre",
      "user_favorite_genres.unique_user_favorite_genre",
      "movie_production_companies.unique_movie_company",
      "user_movie_interactions.unique_user_movie_interaction",
      "user_recommendations.unique_user_movie_algorithm",
      "popularity_metrics.unique_movie_date",
      "user_movie_interactions.check_rating_range",
      "user_recommendations.check_score_range",
      "notification_preferences.notification_preferences_digest_day_check",
      "user_profiles.fk_user_profiles_user",
      "user_movie_interactions.fk_interactions_user",
      "user_activity_logs.fk_activity_logs_user",
    ]) {
      expect(names.has(name), name).toBe(true);
    }
  });

  it("creates every foreign key with its ON DELETE rule", async () => {
    const rows = await sql<{ fk: string }>(
      t.orm,
      `select format('%s.%s -> %s %s', c.conrelid::regclass, a.attname, c.confrelid::regclass,
                     case c.confdeltype when 'c' then 'CASCADE' when 'n' then 'SET NULL' else c.confdeltype::text end) as fk
         from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
         join pg_class k on k.oid = c.conrelid
        where c.contype = 'f' and c.connamespace = 'public'::regnamespace and not k.relispartition`,
    );
    expect(rows.map((r) => r.fk).sort()).toEqual([...FOREIGN_KEYS].sort());
  });

  it("partitions the two log tables by range with the key in the primary key, and a DEFAULT partition each", async () => {
    const rows = await sql<{ table: string; key: string; pk: string }>(
      t.orm,
      `select c.relname as table, pg_get_partkeydef(c.oid) as key, pg_get_constraintdef(pk.oid) as pk
         from pg_class c join pg_constraint pk on pk.conrelid = c.oid and pk.contype = 'p'
        where c.relkind = 'p' order by 1`,
    );
    expect(rows).toEqual([
      { table: "notification_logs", key: "RANGE (created_at)", pk: "PRIMARY KEY (id, created_at)" },
      { table: "user_activity_logs", key: 'RANGE ("timestamp")', pk: 'PRIMARY KEY (id, "timestamp")' },
    ]);
    const defaults = await sql<{ name: string }>(
      t.orm,
      `select c.relname as name from pg_class c where c.relispartition and pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' order by 1`,
    );
    expect(defaults.map((d) => d.name)).toEqual(["notification_logs_default", "user_activity_logs_default"]);
  });

  it("enables pg_trgm", async () => {
    expect(await hasExtension("pg_trgm")).toBe(true);
  });

  it("rolls back to zero, leaving only the migrations table", async () => {
    await migrateDown(t.orm);
    expect(await tables()).toEqual(["mikro_orm_migrations"]);
    const leftovers = await sql<{ relname: string }>(
      t.orm,
      `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relname not like 'mikro_orm_migrations%'`,
    );
    expect(leftovers).toEqual([]);
    expect(await hasExtension("pg_trgm")).toBe(false);
    expect(await pendingMigrations(t.orm)).toEqual(ALL_MIGRATIONS);
  });

  it("applies again after the rollback", async () => {
    expect(await migrateUp(t.orm)).toEqual(ALL_MIGRATIONS);
    expect(await tables()).toEqual([...Object.keys(DESIGN_COLUMNS), "mikro_orm_migrations"].sort());
  });
});
