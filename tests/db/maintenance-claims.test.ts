/**
 * Schema and partition upkeep claims of README.md, each on a database of this file's own (archiving and dropping
 * partitions of the run's shared database would take other files' rows away) — review of 2026-11-30, items 10, 13:
 * - migrateUp applies every pending migration in one transaction: a failure in the last one leaves nothing applied;
 * - ensurePartitions moves rows out of DEFAULT under the maintenance advisory lock with the parent locked against
 *   inserts, keeping ids; a second run started meanwhile does not race it;
 * - activity-log months older than the retention are moved to the `archive` schema, or dropped in drop mode.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import pg from "pg";
import type { MikroORM } from "@mikro-orm/postgresql";
import { openOrm } from "../../src/platform/orm.ts";
import { migrateUp } from "../../src/platform/migrations.ts";
import { ensurePartitions } from "../../src/platform/partitions.ts";
import { maintainPartitions } from "../../src/modules/analytics/partition-maintenance.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { createMigratedDatabase } from "../faults/support/own-database.ts";

let db: TestDatabase;
let orm: MikroORM;
beforeAll(async () => {
  db = await createMigratedDatabase();
  orm = await openOrm(db.url, { poolMax: 4 });
}, 120_000);
afterAll(async () => {
  await orm?.close(true);
  await db?.drop();
});

const sql = <T = Record<string, unknown>>(q: string, p: unknown[] = []) => orm.em.fork().execute<T[]>(q, p);

async function client(url = db.url): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

async function activity(session: string, at: string): Promise<string> {
  const [row] = await sql<{ id: string }>(
    `insert into user_activity_logs (session_id, action_type, ip_address, user_agent, source, "timestamp")
     values (?, 'movie_view', '192.0.2.0', 'ua', 'web', ?) returning id::text as id`,
    [session, at],
  );
  return row!.id;
}
const partitionOf = async (session: string) =>
  (await sql<{ p: string }>("select tableoid::regclass::text as p from user_activity_logs where session_id = ?", [session])).map((r) => r.p);

/** Backends blocked by `c`'s locks, once there are `count` of them (20 s at most). */
async function blockedBy(c: pg.Client, count = 1): Promise<number[]> {
  const until = Date.now() + 20_000;
  for (;;) {
    // `c` holds its locks in an open transaction, where pg_stat_activity would stay as its first read saw it.
    await c.query("select pg_stat_clear_snapshot()");
    const r = await c.query<{ pid: number }>("select pid from pg_stat_activity where pg_backend_pid() = any(pg_blocking_pids(pid))");
    if (r.rows.length >= count) return r.rows.map((x) => x.pid);
    if (Date.now() > until) throw new Error(`not ${count} backend(s) waiting on the test's lock within 20 s`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

describe("migrateUp", () => {
  it("applies all pending migrations in one transaction: a failure in the last one leaves none applied", async () => {
    const empty = await createTestDatabase("movierec_migr", inject("adminDatabaseUrl"));
    const c = await client(empty.url);
    const fresh = await openOrm(empty.url, { poolMax: 2 });
    try {
      // Migration 0014 creates `experiments`; a table of that name already there makes it fail, after 0001–0012 ran.
      await c.query("create table experiments (id int)");
      await expect(migrateUp(fresh)).rejects.toThrow(/experiments/);
      const tables = await c.query<{ t: string }>("select tablename as t from pg_tables where schemaname = 'public' order by 1");
      const names = tables.rows.map((r) => r.t);
      expect(names).not.toContain("users");
      expect(names).not.toContain("movies");
      expect(names).not.toContain("rescore_requests");
      if (names.includes("mikro_orm_migrations")) {
        expect((await c.query("select name from mikro_orm_migrations")).rows).toEqual([]);
      }
      // Once the obstacle is gone, the same call applies everything.
      await c.query("drop table experiments");
      expect((await migrateUp(fresh)).length).toBeGreaterThan(5);
    } finally {
      await c.end();
      await fresh.close(true);
      await empty.drop();
    }
  }, 120_000);
});

describe("ensurePartitions moving rows out of DEFAULT", () => {
  it("holds the maintenance advisory lock and locks the parent against inserts while it moves; ids kept; a second run does not race it", async () => {
    const session = `move-${Date.now()}`;
    const id = await activity(session, "2031-03-10T12:00:00Z");
    expect(await partitionOf(session)).toEqual(["user_activity_logs_default"]);
    const holder = await client();
    const inserter = await client();
    try {
      // A row lock on the row to move stops the move in the middle: after the parent lock, at the delete.
      await holder.query("begin");
      await holder.query("select id from user_activity_logs_default where session_id = $1 for update", [session]);
      const first = ensurePartitions(orm, { now: new Date("2031-03-10T12:00:00Z"), monthsAhead: 0 });
      const [mover] = await blockedBy(holder);
      const held = await holder.query<{ mode: string; rel: string | null; locktype: string }>(
        "select l.mode, l.relation::regclass::text as rel, l.locktype from pg_locks l where l.pid = $1 and l.granted",
        [mover],
      );
      expect(held.rows).toContainEqual({ mode: "ShareRowExclusiveLock", rel: "user_activity_logs", locktype: "relation" });
      expect(held.rows.some((r) => r.locktype === "advisory" && r.mode === "ExclusiveLock")).toBe(true);
      // An insert into the parent now waits (here: gives up after 300 ms).
      await inserter.query("set lock_timeout = '300ms'");
      const insert = await inserter
        .query(`insert into user_activity_logs (session_id, action_type, ip_address, user_agent, source) values ($1, 'movie_view', '192.0.2.0', 'ua', 'web')`, [`${session}-new`])
        .then(() => "inserted", (e: { code?: string }) => e.code);
      expect(insert).toBe("55P03"); // lock_not_available
      // A second maintenance run started meanwhile does not race the first: it finds the partition made and does nothing
      // (racing, it would fail creating the partition a second time).
      const second = ensurePartitions(orm, { now: new Date("2031-03-10T12:00:00Z"), monthsAhead: 0 });
      await holder.query("rollback");
      expect(await first).toContain("user_activity_logs_y2031m03");
      expect(await second).not.toContain("user_activity_logs_y2031m03");
    } finally {
      await holder.end();
      await inserter.end();
    }
    const moved = await sql<{ id: string; p: string }>("select id::text as id, tableoid::regclass::text as p from user_activity_logs where session_id = ?", [session]);
    expect(moved).toEqual([{ id, p: "user_activity_logs_y2031m03" }]);
  }, 60_000);
});

describe("analytics retention", () => {
  it("moves months older than the retention to the archive schema, or drops them in drop mode; recent months stay", async () => {
    const tag = Date.now();
    const old1 = await activity(`old1-${tag}`, "2023-03-15T08:00:00Z");
    await activity(`old2-${tag}`, "2023-05-10T08:00:00Z");
    const recent = await activity(`recent-${tag}`, new Date().toISOString());
    const now = new Date();

    const archived = await maintainPartitions(orm, { now, monthsAhead: 1, retentionMonths: 12, archiveMode: "archive" });
    expect(archived.archived).toEqual(expect.arrayContaining(["user_activity_logs_y2023m03", "user_activity_logs_y2023m05"]));
    expect(archived.dropped).toEqual([]);
    // Gone from the live table, still queryable in the archive with its id.
    expect(await partitionOf(`old1-${tag}`)).toEqual([]);
    expect(await sql("select id::text as id from archive.user_activity_logs_y2023m03 where session_id = ?", [`old1-${tag}`])).toEqual([{ id: old1 }]);
    expect((await sql<{ id: string }>("select id::text as id from user_activity_logs where session_id = ?", [`recent-${tag}`])).map((r) => r.id)).toEqual([recent]);

    // Drop mode: a newly expired month is dropped, not archived; what was archived stays.
    await activity(`old3-${tag}`, "2023-07-01T08:00:00Z");
    const dropped = await maintainPartitions(orm, { now, monthsAhead: 1, retentionMonths: 12, archiveMode: "drop" });
    expect(dropped.dropped).toEqual(["user_activity_logs_y2023m07"]);
    expect(dropped.archived).toEqual([]);
    expect(await sql("select to_regclass('public.user_activity_logs_y2023m07') as t")).toEqual([{ t: null }]);
    expect(await sql("select to_regclass('archive.user_activity_logs_y2023m07') as t")).toEqual([{ t: null }]);
    expect(await partitionOf(`old3-${tag}`)).toEqual([]);
    expect(await sql("select 1 as one from archive.user_activity_logs_y2023m03 where session_id = ?", [`old1-${tag}`])).toHaveLength(1);
    expect(await partitionOf(`recent-${tag}`)).toHaveLength(1);

    // Nothing left to do the second time.
    const again = await maintainPartitions(orm, { now, monthsAhead: 1, retentionMonths: 12, archiveMode: "drop" });
    expect(again).toEqual({ created: [], archived: [], dropped: [] });
  }, 60_000);
});
