/**
 * The database itself refuses what the design forbids (whatever the application does), and cascades deletes
 * as the design specifies.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  count,
  expectViolation,
  insert,
  type MigratedDatabase,
  openTestDatabase,
  seedGenre,
  seedMovie,
  seedPerson,
  seedUser,
  sql,
  unique,
} from "./helpers.ts";

let t: MigratedDatabase;

beforeAll(async () => {
  t = await openTestDatabase("db_constraints");
});
afterAll(async () => {
  await t?.close();
});

const interaction = (user: string, movie: string, type: string, rating: number | null = null) =>
  insert(t.orm, "user_movie_interactions", { user_id: user, movie_id: movie, interaction_type: type, rating });

const recommendation = (user: string, movie: string, score: number, algorithm = "hybrid") =>
  insert(t.orm, "user_recommendations", { user_id: user, movie_id: movie, score, algorithm });

describe("rejected by the database", () => {
  it("a duplicate username", async () => {
    await seedUser(t.orm, { username: "ann" });
    await expectViolation(seedUser(t.orm, { username: "ann" }), "users_username_key");
  });

  it("a duplicate email differing only in case", async () => {
    await seedUser(t.orm, { email: "Bob@Example.test" });
    await expectViolation(seedUser(t.orm, { email: "bob@example.TEST" }), "idx_users_email_lower_unique");
  });

  it("a rating of 6 or 0 (ratings are 1 to 5 stars), but not 1 or 5", async () => {
    const user = await seedUser(t.orm);
    await expectViolation(interaction(user, await seedMovie(t.orm), "rating", 6), "check_rating_range");
    await expectViolation(interaction(user, await seedMovie(t.orm), "rating", 0), "check_rating_range");
    await interaction(user, await seedMovie(t.orm), "rating", 1);
    await interaction(user, await seedMovie(t.orm), "rating", 5);
  });

  it("a rating on a non-rating interaction, and a rating interaction without one", async () => {
    const user = await seedUser(t.orm);
    await expectViolation(interaction(user, await seedMovie(t.orm), "like", 4), "check_rating_matches_type");
    await expectViolation(interaction(user, await seedMovie(t.orm), "rating", null), "check_rating_matches_type");
  });

  it("a duplicate (user, movie, interaction type), while another type for the same pair is fine", async () => {
    const [user, movie] = [await seedUser(t.orm), await seedMovie(t.orm)];
    await interaction(user, movie, "view");
    await interaction(user, movie, "like");
    await expectViolation(interaction(user, movie, "view"), "unique_user_movie_interaction");
  });

  it("an unknown interaction type or source", async () => {
    const [user, movie] = [await seedUser(t.orm), await seedMovie(t.orm)];
    await expectViolation(interaction(user, movie, "poke"), "user_movie_interactions_interaction_type_check");
    await expectViolation(
      insert(t.orm, "user_movie_interactions", { user_id: user, movie_id: movie, interaction_type: "view", source: "fax" }),
      "user_movie_interactions_source_check",
    );
  });

  it("a recommendation score of 1.5 or -0.1", async () => {
    const user = await seedUser(t.orm);
    await expectViolation(recommendation(user, await seedMovie(t.orm), 1.5), "check_score_range");
    await expectViolation(recommendation(user, await seedMovie(t.orm), -0.1), "check_score_range");
    await recommendation(user, await seedMovie(t.orm), 1);
  });

  it("a duplicate (user, movie, algorithm) recommendation", async () => {
    const [user, movie] = [await seedUser(t.orm), await seedMovie(t.orm)];
    await recommendation(user, movie, 0.5, "hybrid");
    await recommendation(user, movie, 0.5, "trending");
    await expectViolation(recommendation(user, movie, 0.7, "hybrid"), "unique_user_movie_algorithm");
  });

  it("a digest day of 8 or 0", async () => {
    await expectViolation(
      insert(t.orm, "notification_preferences", { user_id: await seedUser(t.orm), digest_day: 8 }),
      "notification_preferences_digest_day_check",
    );
    await expectViolation(
      insert(t.orm, "notification_preferences", { user_id: await seedUser(t.orm), digest_day: 0 }),
      "notification_preferences_digest_day_check",
    );
  });

  it("a second preferences row or profile for one user", async () => {
    const user = await seedUser(t.orm);
    await insert(t.orm, "notification_preferences", { user_id: user });
    await expectViolation(insert(t.orm, "notification_preferences", { user_id: user }), "notification_preferences_user_id_key");
    await insert(t.orm, "user_profiles", { user_id: user });
    await expectViolation(insert(t.orm, "user_profiles", { user_id: user }), "user_profiles_user_id_key");
  });

  it("a duplicate movie genre", async () => {
    const [movie, genre] = [await seedMovie(t.orm), await seedGenre(t.orm)];
    await insert(t.orm, "movie_genres", { movie_id: movie, genre_id: genre });
    await expectViolation(insert(t.orm, "movie_genres", { movie_id: movie, genre_id: genre }), "unique_movie_genre");
  });

  it("movie values outside their ranges", async () => {
    await expectViolation(seedMovie(t.orm, { status: "Lost" }), "movies_status_check");
    await expectViolation(seedMovie(t.orm, { budget: -1 }), "movies_budget_check");
    await expectViolation(seedMovie(t.orm, { runtime: -5 }), "movies_runtime_check");
    await expectViolation(seedMovie(t.orm, { tmdb_rating: 10.5 }), "movies_tmdb_rating_check");
    await seedMovie(t.orm, { status: "Rumored", tmdb_rating: 10, budget: 0 });
  });

  it("unknown notification, device and activity values", async () => {
    const user = await seedUser(t.orm);
    const log = { user_id: user, notification_type: "email", subject: "s", content: "c", recipient: "r@x.test" };
    await expectViolation(insert(t.orm, "notification_logs", { ...log, status: "lost" }), "notification_logs_status_check");
    await expectViolation(insert(t.orm, "notification_logs", { ...log, notification_type: "sms" }), "notification_logs_notification_type_check");
    await expectViolation(
      insert(t.orm, "user_devices", { user_id: user, device_token: `tok${unique()}`, device_type: "blackberry" }),
      "user_devices_device_type_check",
    );
    await expectViolation(
      insert(t.orm, "user_activity_logs", {
        session_id: "s", action_type: "movie_dance", ip_address: "10.0.0.1", user_agent: "ua", source: "web",
      }),
      "user_activity_logs_action_type_check",
    );
  });

  it("a second device with the same token", async () => {
    const token = `tok${unique()}`;
    await insert(t.orm, "user_devices", { user_id: await seedUser(t.orm), device_token: token, device_type: "ios" });
    await expectViolation(
      insert(t.orm, "user_devices", { user_id: await seedUser(t.orm), device_token: token, device_type: "web" }),
      "user_devices_device_token_key",
    );
  });

  it("a row pointing at a user that does not exist", async () => {
    await expectViolation(insert(t.orm, "user_profiles", { user_id: "999999999" }), "fk_user_profiles_user");
  });
});

describe("defaults", () => {
  it("fill every column the design gives a default", async () => {
    const id = await seedUser(t.orm);
    const [user] = await sql<Record<string, unknown>>(t.orm, "select * from users where id = ?", [id]);
    expect(user).toMatchObject({ first_name: "", last_name: "", is_active: true, is_staff: false, is_superuser: false, is_premium: false });
    // Raw queries return timestamptz as text; the session runs in UTC.
    expect(String(user!.created_at)).toMatch(/\+00$/);
    expect(Math.abs(Date.parse(String(user!.created_at)) - Date.now())).toBeLessThan(60_000);
    const movie = await seedMovie(t.orm);
    const [m] = await sql<Record<string, unknown>>(t.orm, "select status, is_active, overview, view_count from movies where id = ?", [movie]);
    expect(m).toEqual({ status: "Released", is_active: true, overview: "", view_count: 0 });
    await insert(t.orm, "notification_preferences", { user_id: id });
    const [prefs] = await sql(t.orm, "select digest_day, digest_time, timezone, weekly_digest from notification_preferences where user_id = ?", [id]);
    expect(prefs).toEqual({ digest_day: 1, digest_time: "09:00:00", timezone: "UTC", weekly_digest: true });
  });
});

describe("deleting a user", () => {
  it("removes what belongs to them and keeps their activity logs and metrics anonymised", async () => {
    const user = await seedUser(t.orm);
    const movie = await seedMovie(t.orm);
    const profile = await insert(t.orm, "user_profiles", { user_id: user });
    await insert(t.orm, "user_favorite_genres", { userprofile_id: profile, genre_id: await seedGenre(t.orm) });
    await interaction(user, movie, "like");
    const rec = await recommendation(user, movie, 0.9);
    await insert(t.orm, "recommendation_feedback", { user_id: user, recommendation_id: rec, feedback_type: "positive" });
    await insert(t.orm, "notification_preferences", { user_id: user });
    await insert(t.orm, "user_devices", { user_id: user, device_token: `tok${unique()}`, device_type: "android" });
    await insert(t.orm, "notification_logs", { user_id: user, notification_type: "push", subject: "s", content: "c", recipient: "tok" });
    const activity = await insert(t.orm, "user_activity_logs", {
      user_id: user, movie_id: movie, session_id: "s1", action_type: "movie_view", ip_address: "::1", user_agent: "ua", source: "web",
    });
    const metric = await insert(t.orm, "performance_metrics", { metric_name: "latency", metric_value: 12.5, metric_unit: "ms", user_id: user });

    await sql(t.orm, "delete from users where id = ?", [user]);

    expect(await count(t.orm, "user_profiles", "user_id = ?", [user])).toBe(0);
    expect(await count(t.orm, "user_favorite_genres", "userprofile_id = ?", [profile])).toBe(0);
    expect(await count(t.orm, "user_movie_interactions", "user_id = ?", [user])).toBe(0);
    expect(await count(t.orm, "user_recommendations", "user_id = ?", [user])).toBe(0);
    expect(await count(t.orm, "recommendation_feedback", "recommendation_id = ?", [rec])).toBe(0);
    expect(await count(t.orm, "notification_preferences", "user_id = ?", [user])).toBe(0);
    expect(await count(t.orm, "user_devices", "user_id = ?", [user])).toBe(0);
    expect(await count(t.orm, "notification_logs", "user_id = ?", [user])).toBe(0);
    expect(await sql(t.orm, "select user_id, movie_id from user_activity_logs where id = ?", [activity])).toEqual([
      { user_id: null, movie_id: movie },
    ]);
    expect(await sql(t.orm, "select user_id from performance_metrics where id = ?", [metric])).toEqual([{ user_id: null }]);
  });
});

describe("deleting a movie", () => {
  it("removes its cast, crew, genre and company links, interactions, recommendations and daily metrics", async () => {
    const movie = await seedMovie(t.orm);
    const person = await seedPerson(t.orm);
    const genre = await seedGenre(t.orm);
    const company = await insert(t.orm, "production_companies", { tmdb_id: 400_000 + unique(), name: "Co", origin_country: "US" });
    await insert(t.orm, "movie_cast", { movie_id: movie, person_id: person, character: "Hero", order: 0 });
    await insert(t.orm, "movie_crew", { movie_id: movie, person_id: person, job: "Director", department: "Directing" });
    await insert(t.orm, "movie_genres", { movie_id: movie, genre_id: genre });
    await insert(t.orm, "movie_production_companies", { movie_id: movie, production_company_id: company });
    await interaction(await seedUser(t.orm), movie, "view");
    await recommendation(await seedUser(t.orm), movie, 0.3);
    await insert(t.orm, "popularity_metrics", { movie_id: movie, date: "2025-01-01", view_count: 3 });
    const activity = await insert(t.orm, "user_activity_logs", {
      movie_id: movie, session_id: "s2", action_type: "movie_view", ip_address: "10.1.2.3", user_agent: "ua", source: "mobile",
    });

    await sql(t.orm, "delete from movies where id = ?", [movie]);

    for (const table of [
      "movie_cast", "movie_crew", "movie_genres", "movie_production_companies",
      "user_movie_interactions", "user_recommendations", "popularity_metrics",
    ]) {
      expect(await count(t.orm, table, "movie_id = ?", [movie]), table).toBe(0);
    }
    // The people, genre and company themselves stay.
    expect(await count(t.orm, "persons", "id = ?", [person])).toBe(1);
    expect(await count(t.orm, "genres", "id = ?", [genre])).toBe(1);
    expect(await count(t.orm, "production_companies", "id = ?", [company])).toBe(1);
    expect(await sql(t.orm, "select movie_id from user_activity_logs where id = ?", [activity])).toEqual([{ movie_id: null }]);
  });
});

describe("deleting a notification template", () => {
  it("keeps the logs sent with it, with template_id NULL", async () => {
    const template = await insert(t.orm, "notification_templates", {
      name: `digest${unique()}`, template_type: "email_weekly_digest", subject: "Your week", html_content: "<p/>", text_content: "-",
    });
    const log = await insert(t.orm, "notification_logs", {
      user_id: await seedUser(t.orm), template_id: template, notification_type: "email", subject: "s", content: "c", recipient: "a@b.test",
    });
    await sql(t.orm, "delete from notification_templates where id = ?", [template]);
    expect(await sql(t.orm, "select template_id from notification_logs where id = ?", [log])).toEqual([{ template_id: null }]);
  });
});
