/**
 * Partitioning of the two log tables: rows land in their period's partition or in DEFAULT, and ensurePartitions
 * is idempotent and moves rows out of DEFAULT into a partition it creates.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPartitionSql,
  ensurePartitions,
  monthlyPartition,
  plannedPartitions,
  quarterlyPartition,
} from "../../src/platform/partitions.ts";
import { insert, type MigratedDatabase, openTestDatabase, seedUser, sql } from "./helpers.ts";

describe("partition plan (pure)", () => {
  it("names and bounds monthly partitions in UTC, across a year end", () => {
    const dec = monthlyPartition(new Date("2024-12-31T23:59:59Z"));
    expect(dec).toEqual({
      parent: "user_activity_logs",
      name: "user_activity_logs_y2024m12",
      from: new Date("2024-12-01T00:00:00Z"),
      to: new Date("2025-01-01T00:00:00Z"),
    });
  });

  it("names and bounds quarterly partitions", () => {
    expect(quarterlyPartition(new Date("2024-11-15T00:00:00Z"))).toEqual({
      parent: "notification_logs",
      name: "notification_logs_2024q4",
      from: new Date("2024-10-01T00:00:00Z"),
      to: new Date("2025-01-01T00:00:00Z"),
    });
    expect(quarterlyPartition(new Date("2025-01-01T00:00:00Z")).name).toBe("notification_logs_2025q1");
  });

  it("plans the current month and quarter and those up to monthsAhead", () => {
    const names = plannedPartitions(new Date("2024-11-15T12:00:00Z"), 3).map((p) => p.name);
    expect(names).toEqual([
      "user_activity_logs_y2024m11",
      "user_activity_logs_y2024m12",
      "user_activity_logs_y2025m01",
      "user_activity_logs_y2025m02",
      "notification_logs_2024q4",
      "notification_logs_2025q1",
    ]);
    expect(() => plannedPartitions(new Date(), -1)).toThrow(RangeError);
  });

  it("writes UTC bounds into the DDL", () => {
    expect(createPartitionSql(monthlyPartition(new Date("2024-12-05T00:00:00Z")))).toBe(
      `create table if not exists "user_activity_logs_y2024m12" partition of "user_activity_logs" ` +
        `for values from ('2024-12-01 00:00:00+00') to ('2025-01-01 00:00:00+00')`,
    );
  });
});

let t: MigratedDatabase;

beforeAll(async () => {
  t = await openTestDatabase("db_partitions");
});
afterAll(async () => {
  await t?.close();
});

const activity = (timestamp: string) =>
  insert(t.orm, "user_activity_logs", {
    session_id: "s", action_type: "movie_view", ip_address: "192.0.2.1", user_agent: "ua", source: "web", timestamp,
  });

/** The partition (table) holding the row with this id. */
async function partitionOf(table: string, id: string): Promise<string | undefined> {
  const rows = await sql<{ part: string }>(t.orm, `select tableoid::regclass::text as part from "${table}" where id = ?`, [id]);
  return rows[0]?.part;
}

describe("partitions in the database", () => {
  it("the migration created the current month's and quarter's partitions", async () => {
    const now = new Date();
    const rows = await sql<{ name: string }>(t.orm, "select relname as name from pg_class where relispartition");
    const names = rows.map((r) => r.name);
    expect(names).toContain(monthlyPartition(now).name);
    expect(names).toContain(quarterlyPartition(now).name);
  });

  it("routes an activity row to its month's partition, and one far in the future to DEFAULT", async () => {
    const now = new Date();
    const current = await activity(now.toISOString());
    expect(await partitionOf("user_activity_logs", current)).toBe(monthlyPartition(now).name);
    const future = await activity("2099-01-15T10:00:00Z");
    expect(await partitionOf("user_activity_logs", future)).toBe("user_activity_logs_default");
  });

  it("routes a notification far in the future to DEFAULT", async () => {
    const id = await insert(t.orm, "notification_logs", {
      user_id: await seedUser(t.orm), notification_type: "email", subject: "s", content: "c", recipient: "a@b.test",
      created_at: "2099-02-01T00:00:00Z",
    });
    expect(await partitionOf("notification_logs", id)).toBe("notification_logs_default");
  });

  it("ensurePartitions is idempotent for the periods the migration already covers", async () => {
    expect(await ensurePartitions(t.orm, { now: new Date(), monthsAhead: 3 })).toEqual([]);
  });

  it("creates new partitions, moving rows out of DEFAULT with their ids, then does nothing the second time", async () => {
    const january = await activity("2099-01-20T00:00:00Z");
    const june = await activity("2099-06-01T00:00:00Z");
    const [before] = await sql<{ n: string }>(t.orm, "select count(*) as n from user_activity_logs");

    const created = await ensurePartitions(t.orm, { now: new Date("2099-01-10T00:00:00Z"), monthsAhead: 1 });
    expect(created).toEqual(["user_activity_logs_y2099m01", "user_activity_logs_y2099m02", "notification_logs_2099q1"]);

    const jan1 = (await sql<{ id: string }>(t.orm, "select id from user_activity_logs where \"timestamp\" = '2099-01-15T10:00:00Z'"))[0]!;
    expect(await partitionOf("user_activity_logs", jan1.id)).toBe("user_activity_logs_y2099m01");
    expect(await partitionOf("user_activity_logs", january)).toBe("user_activity_logs_y2099m01");
    // Outside every new range, so still in DEFAULT.
    expect(await partitionOf("user_activity_logs", june)).toBe("user_activity_logs_default");
    const notifications = await sql<{ part: string }>(t.orm, "select tableoid::regclass::text as part from notification_logs where created_at >= '2099-01-01'");
    expect(notifications).toEqual([{ part: "notification_logs_2099q1" }]);
    // Nothing lost or duplicated by the move.
    const [after] = await sql<{ n: string }>(t.orm, "select count(*) as n from user_activity_logs");
    expect(after!.n).toBe(before!.n);

    expect(await ensurePartitions(t.orm, { now: new Date("2099-01-10T00:00:00Z"), monthsAhead: 1 })).toEqual([]);
  });

  it("keeps routing new rows after a move (the DEFAULT partition is still attached)", async () => {
    const id = await activity("2150-03-03T00:00:00Z");
    expect(await partitionOf("user_activity_logs", id)).toBe("user_activity_logs_default");
    const moved = await activity("2099-02-14T00:00:00Z");
    expect(await partitionOf("user_activity_logs", moved)).toBe("user_activity_logs_y2099m02");
  });
});
