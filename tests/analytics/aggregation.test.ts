/**
 * Daily aggregation of a known synthetic day (far in the past, so no other test's rows fall in it), idempotent when
 * re-run; reports through the real server with a staff token; partition upkeep moves DEFAULT rows into their month.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AnalyticsService, TopMoviesMetric } from "../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { aggregateDay, maintainPartitions, nativePool } from "../../src/modules/analytics/index.ts";
import { expiredPartitions } from "../../src/modules/analytics/partition-maintenance.ts";
import { createTestUser } from "../auth/test-users.ts";
import type { TestServer } from "../support/server.ts";
import { insertMovie, sql, startAnalyticsServer, uniqueSession } from "./helpers.ts";

let ts: TestServer;
// A random day in 2003: unique per run, before any partition the migration creates (lands in DEFAULT).
const day = `2003-${String(1 + Math.floor(Math.random() * 12)).padStart(2, "0")}-${String(1 + Math.floor(Math.random() * 28)).padStart(2, "0")}`;
const at = (hh: number) => `${day}T${String(hh).padStart(2, "0")}:30:00Z`;

beforeAll(async () => {
  ts = await startAnalyticsServer();
});
afterAll(async () => {
  await ts?.close();
});

async function seedDay(a: string, b: string, users: string[]) {
  const log = (movie: string | null, user: string | null, hh: number, action = "movie_view") =>
    sql(ts.orm, `insert into user_activity_logs (user_id, session_id, action_type, movie_id, ip_address, user_agent, source, "timestamp")
                 values (?, ?, ?, ?, '192.0.2.0', 'ua', 'web', ?)`, [user, uniqueSession(), action, movie, at(hh)]);
  for (let i = 0; i < 5; i++) await log(a, users[i % 3]!, 1 + i);
  for (let i = 0; i < 2; i++) await log(b, null, 10 + i);
  await log(a, users[0]!, 12, "movie_search"); // not a view
  await log(a, users[0]!, 0 + 0, "movie_view").then(() => undefined);
  // The previous day's 23:59 must not count.
  await sql(ts.orm, `insert into user_activity_logs (session_id, action_type, movie_id, ip_address, user_agent, source, "timestamp")
                     values ('edge', 'movie_view', ?, '192.0.2.0', 'ua', 'web', ?::date - interval '1 minute')`, [a, day]);
  const interact = (user: string, movie: string, type: string, rating: number | null, hh: number) =>
    sql(ts.orm, `insert into user_movie_interactions (user_id, movie_id, interaction_type, rating, source, "timestamp") values (?, ?, ?, ?, 'web', ?)`,
      [user, movie, type, rating, at(hh)]);
  await interact(users[0]!, a, "like", null, 3);
  await interact(users[1]!, a, "like", null, 4);
  await interact(users[0]!, a, "rating", 5, 5);
  await interact(users[1]!, a, "rating", 4, 6);
  await interact(users[2]!, a, "rating", 2, 7);
  // Lists scored that day (each item one recommendation), and the rows clicks wrote for two of their items.
  const list = (user: string, movies: string[], algorithm: string) =>
    sql(ts.orm, `insert into user_recommendation_lists (user_id, algorithm, generated_at, movie_ids, scores) values (?, ?, ?, ?::bigint[], array_fill(0.5::real, array[?::int]))`,
      [user, algorithm, at(8), `{${movies.join(",")}}`, movies.length]);
  const click = (user: string, movie: string, algorithm: string) =>
    sql(ts.orm, `insert into user_recommendations (user_id, movie_id, score, algorithm, generated_at, clicked, clicked_at) values (?, ?, 0.5, ?, ?, true, ?)`,
      [user, movie, algorithm, at(8), at(9)]);
  await list(users[0]!, [a], "collaborative");
  await list(users[1]!, [a], "collaborative");
  await list(users[2]!, [a], "hybrid");
  await list(users[0]!, [b], "hybrid");
  await click(users[0]!, a, "collaborative");
  await click(users[0]!, b, "hybrid");
}

describe("daily aggregation", () => {
  it("computes exactly the day's counts and CTR, and re-running changes nothing", async () => {
    const a = await insertMovie(ts.orm, "Aggregated A");
    const b = await insertMovie(ts.orm, "Aggregated B");
    const users = [await createTestUser(ts.deps), await createTestUser(ts.deps), await createTestUser(ts.deps)].map((u) => u.userId);
    await seedDay(a, b, users);
    const pool = await nativePool(ts.orm)();
    const first = await aggregateDay(pool, day);
    expect(first.movies).toBeGreaterThanOrEqual(2);
    const read = () =>
      sql<Record<string, unknown>>(ts.orm, `select movie_id::text as movie, view_count, like_count, rating_count, avg_rating::text as avg, recommendation_count,
                                                   click_through_rate::text as ctr from popularity_metrics where "date" = ? and movie_id in (?, ?) order by movie_id`, [day, a, b]);
    const expected = [
      { movie: a, view_count: 6, like_count: 2, rating_count: 3, avg: "3.67", recommendation_count: 3, ctr: "0.3333" },
      { movie: b, view_count: 2, like_count: 0, rating_count: 0, avg: null, recommendation_count: 1, ctr: "1.0000" },
    ];
    expect(await read()).toEqual(expected);
    await aggregateDay(pool, day);
    expect(await read()).toEqual(expected);
    const dau = await sql<{ n: number }>(ts.orm, "select count(*)::int as n from analytics_daily_active_users where day = ? and user_id in (?, ?, ?)", [day, ...users]);
    expect(dau[0]!.n).toBe(3);

    const staff = await createTestUser(ts.deps, { staff: true });
    const client = createClient(AnalyticsService, createGrpcTransport({ baseUrl: ts.baseUrl }));
    const top = await client.getTopMovies({ startDate: day, endDate: day, by: TopMoviesMetric.VIEWS, limit: 100 }, { headers: staff.headers });
    const mine = top.movies.filter((m) => m.movieId === a || m.movieId === b);
    expect(mine.map((m) => [m.movieId, m.title, m.viewCount, m.likeCount, m.recommendationCount])).toEqual([
      [a, "Aggregated A", 6, 2, 3],
      [b, "Aggregated B", 2, 0, 1],
    ]);
    expect(mine[0]!.avgRating).toBeCloseTo(3.67, 2);
    const series = await client.getPopularity({ movieId: b, startDate: day, endDate: day }, { headers: staff.headers });
    expect(series.points).toEqual([expect.objectContaining({ date: day, viewCount: 2, recommendationCount: 1, clickThroughRate: 1 })]);
    const active = await client.getActiveUsers({ startDate: day, endDate: day }, { headers: staff.headers });
    expect(active.points[0]!.dailyActiveUsers).toBeGreaterThanOrEqual(3);
    expect(active.points[0]!.interactionCount).toBeGreaterThanOrEqual(5); // the five seeded likes and ratings
  });
});

describe("partition maintenance", () => {
  it("gives a month caught by DEFAULT its own partition, and finds expired months", async () => {
    const session = uniqueSession();
    await sql(ts.orm, `insert into user_activity_logs (session_id, action_type, ip_address, user_agent, source, "timestamp")
                       values (?, 'movie_view', '192.0.2.0', 'ua', 'web', '2031-07-15T10:00:00Z')`, [session]);
    const part = () => sql<{ p: string }>(ts.orm, "select tableoid::regclass::text as p from user_activity_logs where session_id = ?", [session]);
    expect((await part())[0]!.p).toBe("user_activity_logs_default");
    // Months of the synthetic 2003 day (older than 120 months) are archived; recent ones stay.
    const result = await maintainPartitions(ts.orm, { now: new Date(), monthsAhead: 1, retentionMonths: 120, archiveMode: "archive" });
    expect(result.created).toContain("user_activity_logs_y2031m07");
    expect(result.archived.every((n) => /_y200\dm\d\d$/.test(n))).toBe(true);
    for (const name of result.archived) {
      expect(await sql(ts.orm, "select 1 from pg_tables where schemaname = 'archive' and tablename = ?", [name])).toHaveLength(1);
    }
    expect((await part())[0]!.p).toBe("user_activity_logs_y2031m07");
    expect(expiredPartitions(["user_activity_logs_y2025m02", "user_activity_logs_y2025m03", "user_activity_logs_default"], new Date("2026-03-05Z"), 12))
      .toEqual(["user_activity_logs_y2025m02"]);
  });
});
