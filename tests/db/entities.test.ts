/**
 * The entity mappings agree with the migrated schema: one entity of each service goes through MikroORM and back,
 * the schema diff MikroORM computes from the entities touches no table or column, and the TypeScript value
 * unions equal the database's CHECK lists.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTION_TYPES, ACTIVITY_SOURCES, METRIC_UNITS, PerformanceMetric, PopularityMetric, UserActivityLog } from "../../src/modules/analytics/entities/index.ts";
import { AUDIT_ACTOR_TYPES, AUDIT_OPERATIONS, AuditLog } from "../../src/modules/audit/entities/index.ts";
import { CONVERSION_TYPES, EXPERIMENT_STATUSES, SURFACES } from "../../src/modules/evaluation/entities/index.ts";
import {
  Genre,
  MOVIE_STATUSES,
  Movie,
  MovieCast,
  MovieCrew,
  MovieGenre,
  MovieProductionCompany,
  Person,
  ProductionCompany,
} from "../../src/modules/catalog/entities/index.ts";
import {
  DEVICE_TYPES,
  NOTIFICATION_STATUSES,
  NOTIFICATION_TYPES,
  NotificationLog,
  NotificationPreference,
  NotificationTemplate,
  TEMPLATE_TYPES,
  UserDevice,
} from "../../src/modules/notification/entities/index.ts";
import {
  FEEDBACK_TYPES,
  INTERACTION_SOURCES,
  INTERACTION_TYPES,
  RecommendationFeedback,
  UserMovieInteraction,
  UserRecommendation,
} from "../../src/modules/recommendation/entities/index.ts";
import { User, UserFavoriteGenre, UserProfile } from "../../src/modules/user/entities/index.ts";
import { type MigratedDatabase, openTestDatabase, sql, unique } from "./helpers.ts";

let t: MigratedDatabase;

beforeAll(async () => {
  t = await openTestDatabase("db_entities");
});
afterAll(async () => {
  await t?.close();
});

describe("entities round-trip through the real schema", () => {
  it("user: user, profile, favourite genre", async () => {
    const em = t.orm.em.fork();
    const n = unique();
    const user = em.create(User, { username: `ent${n}`, email: `Ent${n}@Example.test`, password: "hash", dateOfBirth: "1990-05-17" });
    const genre = em.create(Genre, { tmdbId: 500_000 + n, name: `Noir ${n}`, slug: `noir-${n}` });
    const profile = em.create(UserProfile, { user, country: "FR" });
    em.create(UserFavoriteGenre, { profile, genre });
    await em.flush();
    expect(typeof user.id).toBe("string");

    const read = t.orm.em.fork();
    const u = await read.findOneOrFail(User, { id: user.id });
    expect(u).toMatchObject({ username: `ent${n}`, firstName: "", isActive: true, isPremium: false, dateOfBirth: "1990-05-17" });
    expect(u.createdAt).toBeInstanceOf(Date);
    const p = await read.findOneOrFail(UserProfile, { user: user.id });
    expect(p).toMatchObject({ country: "FR", preferredLanguage: "en", timezone: "UTC" });
    const fav = await read.findOneOrFail(UserFavoriteGenre, { profile: p.id }, { populate: ["genre"] });
    expect(fav.genre.getEntity().slug).toBe(`noir-${n}`);
  });

  it("catalog: movie with genre, cast, crew and company", async () => {
    const em = t.orm.em.fork();
    const n = unique();
    const movie = em.create(Movie, {
      tmdbId: 600_000 + n, title: "Heat", originalTitle: "Heat", originalLanguage: "en", releaseDate: "1995-12-15",
      tmdbRating: 8.3, budget: 60_000_000, status: "Released",
    });
    const person = em.create(Person, { tmdbId: 600_000 + n, name: "Al Pacino", knownForDepartment: "Acting", birthday: "1940-04-25" });
    const company = em.create(ProductionCompany, { tmdbId: 600_000 + n, name: "Forward Pass", originCountry: "US" });
    const genre = em.create(Genre, { tmdbId: 600_000 + n, name: `Crime ${n}`, slug: `crime-${n}` });
    em.create(MovieGenre, { movie, genre });
    em.create(MovieCast, { movie, person, character: "Vincent Hanna", order: 0 });
    em.create(MovieCrew, { movie, person, job: "Producer", department: "Production" });
    em.create(MovieProductionCompany, { movie, productionCompany: company });
    await em.flush();

    const read = t.orm.em.fork();
    const m = await read.findOneOrFail(Movie, { id: movie.id });
    expect(m).toMatchObject({ title: "Heat", tmdbRating: 8.3, budget: 60_000_000, releaseDate: "1995-12-15", isActive: true, viewCount: 0 });
    const cast = await read.find(MovieCast, { movie: movie.id }, { populate: ["person"] });
    expect(cast.map((c) => [c.character, c.order, c.person.getEntity().name])).toEqual([["Vincent Hanna", 0, "Al Pacino"]]);
    expect(await read.count(MovieGenre, { movie: movie.id })).toBe(1);
    expect(await read.count(MovieCrew, { movie: movie.id, job: "Producer" })).toBe(1);
    expect(await read.count(MovieProductionCompany, { productionCompany: company.id })).toBe(1);
  });

  it("recommendation: interaction, recommendation, feedback", async () => {
    const em = t.orm.em.fork();
    const n = unique();
    const user = em.create(User, { username: `rec${n}`, email: `rec${n}@example.test`, password: "h" });
    const movie = em.create(Movie, { tmdbId: 700_000 + n, title: "Alien", originalTitle: "Alien", originalLanguage: "en" });
    em.create(UserMovieInteraction, { user, movie, interactionType: "rating", rating: 5 });
    const rec = em.create(UserRecommendation, { user, movie, score: 0.875, algorithm: "hybrid" });
    em.create(RecommendationFeedback, { user, recommendation: rec, feedbackType: "already_seen" });
    await em.flush();

    const read = t.orm.em.fork();
    const i = await read.findOneOrFail(UserMovieInteraction, { user: user.id });
    expect(i).toMatchObject({ interactionType: "rating", rating: 5, source: "web" });
    expect(i.timestamp).toBeInstanceOf(Date);
    const r = await read.findOneOrFail(UserRecommendation, { id: rec.id });
    expect(r).toMatchObject({ score: 0.875, algorithm: "hybrid", clicked: false, clickedAt: null });
    const f = await read.findOneOrFail(RecommendationFeedback, { recommendation: rec.id });
    expect(f).toMatchObject({ feedbackType: "already_seen", comment: "" });
  });

  it("notification: preferences, template, log, device", async () => {
    const em = t.orm.em.fork();
    const n = unique();
    const user = em.create(User, { username: `not${n}`, email: `not${n}@example.test`, password: "h" });
    em.create(NotificationPreference, { user, digestDay: 5, digestTime: "18:30:00" });
    const template = em.create(NotificationTemplate, {
      name: `weekly${n}`, templateType: "email_weekly_digest", subject: "Your week", htmlContent: "<h1>Hi</h1>", textContent: "Hi",
    });
    const log = em.create(NotificationLog, {
      user, template, notificationType: "email", subject: "Your week", content: "Hi", recipient: `not${n}@example.test`,
    });
    em.create(UserDevice, { user, deviceToken: `device-${n}`, deviceType: "ios" });
    await em.flush();

    const read = t.orm.em.fork();
    expect(await read.findOneOrFail(NotificationPreference, { user: user.id })).toMatchObject({
      digestDay: 5, digestTime: "18:30:00", weeklyDigest: true, pushTrending: false, timezone: "UTC",
    });
    const l = await read.findOneOrFail(NotificationLog, { id: log.id }, { populate: ["template"] });
    expect(l).toMatchObject({ status: "pending", errorMessage: "", sentAt: null });
    expect(l.template?.getEntity().name).toBe(`weekly${n}`);
    l.status = "sent";
    l.sentAt = new Date("2025-03-01T08:00:00Z");
    await read.flush();
    const again = await t.orm.em.fork().findOneOrFail(NotificationLog, { id: log.id });
    expect(again.status).toBe("sent");
    expect(again.sentAt?.toISOString()).toBe("2025-03-01T08:00:00.000Z");
    expect(await read.findOneOrFail(UserDevice, { deviceToken: `device-${n}` })).toMatchObject({ deviceType: "ios", isActive: true, deviceName: "" });
  });

  it("analytics: activity log, performance metric, popularity metric", async () => {
    const em = t.orm.em.fork();
    const n = unique();
    const movie = em.create(Movie, { tmdbId: 800_000 + n, title: "Up", originalTitle: "Up", originalLanguage: "en" });
    const activity = em.create(UserActivityLog, {
      sessionId: `sess${n}`, actionType: "movie_search", ipAddress: "2001:db8::1", userAgent: "test", source: "mobile",
      metadata: { query: "pixar", page: 2 }, movie,
    });
    const metric = em.create(PerformanceMetric, { metricName: "rpc_latency", metricValue: 12.5, metricUnit: "ms", endpoint: "/catalog.v1/GetMovie" });
    em.create(PopularityMetric, { movie, date: "2025-02-03", viewCount: 10, avgRating: 4.25, clickThroughRate: 0.125 });
    await em.flush();

    const read = t.orm.em.fork();
    const a = await read.findOneOrFail(UserActivityLog, { id: activity.id });
    expect(a).toMatchObject({ ipAddress: "2001:db8::1", metadata: { query: "pixar", page: 2 }, user: null });
    // The GIN-indexed containment query the analytics code will use.
    const found = await read.find(UserActivityLog, { metadata: { $contains: { query: "pixar" } } });
    expect(found.map((f) => f.id)).toEqual([activity.id]);
    expect(await read.findOneOrFail(PerformanceMetric, { id: metric.id })).toMatchObject({ metricValue: 12.5, additionalData: {} });
    const pop = await read.findOneOrFail(PopularityMetric, { movie: movie.id });
    expect(pop).toMatchObject({ date: "2025-02-03", viewCount: 10, avgRating: 4.25, clickThroughRate: 0.125, likeCount: 0 });
  });

  it("audit: a change record", async () => {
    const em = t.orm.em.fork();
    const entry = em.create(AuditLog, { tableName: "movies", operation: "UPDATE", oldValues: { title: "A" }, newValues: { title: "B" }, userId: "42" });
    await em.flush();
    const read = await t.orm.em.fork().findOneOrFail(AuditLog, { id: entry.id });
    expect(read).toMatchObject({ tableName: "movies", operation: "UPDATE", newValues: { title: "B" }, userId: "42" });
  });
});

describe("entity metadata agrees with the migration", () => {
  it("the schema diff from the entities creates, adds or alters no table or column", async () => {
    const diff = await t.orm.schema.getUpdateSchemaSQL({ wrap: false });
    const statements = diff.split(";").map((s) => s.trim()).filter((s) => s !== "");
    // What the entities cannot express (partial/expression/GIN and the design's redundant indexes, CHECKs
    // beyond the value lists, the partition key in the log tables' primary keys) shows up as drops; nothing else may.
    const tolerated = [
      /^drop index "idx_[a-z_]+"$/,
      /^alter table "[a-z_]+" drop constraint "[a-z_]+(_check|_range|_type|_at|_lifespan)"$/,
      /^alter table "(notification_logs|user_activity_logs)" drop constraint "\1_pkey"$/,
      /^alter table "(notification_logs|user_activity_logs)" add primary key \("id"\)$/,
      // The triggers that keep movie_title_words filled (migration 0012) are the database's, not the entities'.
      /^drop trigger if exists "movies_title_words_(insert|update)" on "movies"$/,
      /^drop function if exists "movies_movies_title_words_(insert|update)_fn"\(\)$/,
    ];
    const unexpected = statements.filter((s) => !tolerated.some((re) => re.test(s)));
    expect(unexpected).toEqual([]);
    // Sanity: the diff does see the schema (a diff against nothing would be all "create table").
    expect(statements.some((s) => s.startsWith("drop index"))).toBe(true);
  });

  it("the value unions of the entities equal the CHECK lists of the database", async () => {
    const unions: [string, string, readonly string[]][] = [
      ["movies", "status", MOVIE_STATUSES],
      ["user_movie_interactions", "interaction_type", INTERACTION_TYPES],
      ["user_movie_interactions", "source", INTERACTION_SOURCES],
      ["recommendation_feedback", "feedback_type", FEEDBACK_TYPES],
      ["notification_templates", "template_type", TEMPLATE_TYPES],
      ["notification_logs", "notification_type", NOTIFICATION_TYPES],
      ["notification_logs", "status", NOTIFICATION_STATUSES],
      ["user_devices", "device_type", DEVICE_TYPES],
      ["user_activity_logs", "action_type", ACTION_TYPES],
      ["user_activity_logs", "source", ACTIVITY_SOURCES],
      ["performance_metrics", "metric_unit", METRIC_UNITS],
      ["audit_log", "operation", AUDIT_OPERATIONS],
      ["audit_log", "actor_type", AUDIT_ACTOR_TYPES],
      ["experiments", "surface", SURFACES],
      ["experiments", "status", EXPERIMENT_STATUSES],
      ["serving_defaults", "surface", SURFACES],
      ["recommendation_impressions", "surface", SURFACES],
      ["recommendation_impressions", "conversion_type", CONVERSION_TYPES],
    ];
    for (const [table, column, values] of unions) {
      const rows = await sql<{ def: string }>(
        t.orm,
        "select pg_get_constraintdef(oid) as def from pg_constraint where conrelid = ?::regclass and conname = ?",
        [table, `${table}_${column}_check`],
      );
      expect(rows, `${table}.${column}`).toHaveLength(1);
      const allowed = [...rows[0]!.def.matchAll(/'((?:[^']|'')*)'::/g)].map((m) => m[1]);
      expect(allowed.sort(), `${table}.${column}`).toEqual([...values].sort());
    }
  });
});
