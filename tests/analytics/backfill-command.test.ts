/**
 * `npm run backfill -- FROM [TO]` (README "Analytics", review of 2026-11-30, item 22): the real command
 * (`node src/main.ts backfill`, what the npm script runs) in its own process, on a database of this file's own with
 * two days of activity. It fills popularity_metrics and the daily active users of each day of the range, prints one
 * JSON line per day, and a second run changes nothing.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import type { MikroORM } from "@mikro-orm/postgresql";
import { openOrm } from "../../src/platform/orm.ts";
import type { TestDatabase } from "../support/database.ts";
import { createMigratedDatabase } from "../faults/support/own-database.ts";

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
let db: TestDatabase;
let orm: MikroORM;
const ids = { a: "", b: "", user: "" };

beforeAll(async () => {
  db = await createMigratedDatabase();
  orm = await openOrm(db.url, { poolMax: 2 });
  const em = orm.em.fork();
  const [a] = await em.execute<{ id: string }[]>("insert into movies (tmdb_id, title, original_title, original_language) values (1, 'A', 'A', 'en') returning id::text as id");
  const [b] = await em.execute<{ id: string }[]>("insert into movies (tmdb_id, title, original_title, original_language) values (2, 'B', 'B', 'en') returning id::text as id");
  const [u] = await em.execute<{ id: string }[]>("insert into users (username, email, password) values ('bf', 'bf@example.test', 'x') returning id::text as id");
  Object.assign(ids, { a: a!.id, b: b!.id, user: u!.id });
  const view = (movie: string, at: string) =>
    em.execute(
      `insert into user_activity_logs (user_id, session_id, action_type, movie_id, ip_address, user_agent, source, "timestamp") values (?, 's', 'movie_view', ?, '192.0.2.0', 'ua', 'web', ?)`,
      [ids.user, movie, at],
    );
  await view(ids.a, "2026-03-01T10:00:00Z");
  await view(ids.a, "2026-03-01T23:59:00Z");
  await view(ids.b, "2026-03-01T12:00:00Z");
  await view(ids.b, "2026-03-02T00:00:01Z");
  await em.execute(`insert into user_movie_interactions (user_id, movie_id, interaction_type, "timestamp") values (?, ?, 'like', '2026-03-02T08:00:00Z')`, [ids.user, ids.b]);
}, 120_000);
afterAll(async () => {
  await orm?.close(true);
  await db?.drop();
});

const run = () =>
  promisify(execFile)(process.execPath, [MAIN, "backfill", "2026-03-01", "2026-03-02"], {
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", DATABASE_URL: db.url, REDIS_URL: inject("redisUrl"), REDIS_PREFIX: `${inject("redisPrefix")}bf`, LOG_LEVEL: "warn" },
    timeout: 60_000,
  });

const metrics = () =>
  orm.em
    .fork()
    .execute<{ movie_id: string; date: string; view_count: number; like_count: number }[]>(
      `select movie_id::text as movie_id, "date"::text as date, view_count, like_count from popularity_metrics order by "date", movie_id`,
    );

describe("npm run backfill", () => {
  it("aggregates each UTC day of the range into popularity_metrics and daily active users; a re-run changes nothing", { timeout: 120_000 }, async () => {
    const { stdout } = await run();
    const days = stdout.trim().split("\n").map((l) => JSON.parse(l) as { day: string; movies: number; activeUsers: number });
    expect(days.map((d) => [d.day, d.movies, d.activeUsers])).toEqual([
      ["2026-03-01", 2, 1],
      ["2026-03-02", 1, 1],
    ]);
    const expected = [
      { movie_id: ids.a, date: "2026-03-01", view_count: 2, like_count: 0 },
      { movie_id: ids.b, date: "2026-03-01", view_count: 1, like_count: 0 },
      { movie_id: ids.b, date: "2026-03-02", view_count: 1, like_count: 1 },
    ];
    expect(await metrics()).toEqual(expected);
    const active = await orm.em.fork().execute("select day::text as day, user_id::text as user_id from analytics_daily_active_users order by day");
    expect(active).toEqual([
      { day: "2026-03-01", user_id: ids.user },
      { day: "2026-03-02", user_id: ids.user },
    ]);
    await run();
    expect(await metrics()).toEqual(expected);
  });
});
