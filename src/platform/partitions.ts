/**
 * Range partitions of the two append-only log tables:
 * `user_activity_logs` by calendar month of `timestamp`, `notification_logs` by quarter of `created_at`.
 *
 * Bounds are UTC (`…+00`) so the partition a row lands in never depends on the session time zone.
 * Each table also has a DEFAULT partition (created by the initial migration) that catches rows outside
 * every explicit range, so an insert is never rejected because a partition is missing.
 */
import type { MikroORM } from "@mikro-orm/postgresql";

/** The partitioned tables and the column each is partitioned on. */
export const PARTITIONED_TABLES = {
  user_activity_logs: { key: "timestamp", period: "month" },
  notification_logs: { key: "created_at", period: "quarter" },
} as const;

export type PartitionedTable = keyof typeof PARTITIONED_TABLES;

/** One explicit range partition: rows with `from <= key < to`. */
export interface PartitionSpec {
  readonly parent: PartitionedTable;
  readonly name: string;
  readonly from: Date;
  readonly to: Date;
}

/** Name of the DEFAULT partition of a partitioned table. */
export function defaultPartitionName(parent: PartitionedTable): string {
  return `${parent}_default`;
}

const pad2 = (n: number): string => String(n).padStart(2, "0");

/** The monthly `user_activity_logs` partition containing `at` (name as in the design: `user_activity_logs_y2024m12`). */
export function monthlyPartition(at: Date): PartitionSpec {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  return {
    parent: "user_activity_logs",
    name: `user_activity_logs_y${y}m${pad2(m + 1)}`,
    from: new Date(Date.UTC(y, m, 1)),
    to: new Date(Date.UTC(y, m + 1, 1)),
  };
}

/** The quarterly `notification_logs` partition containing `at` (name as in the design: `notification_logs_2024q4`). */
export function quarterlyPartition(at: Date): PartitionSpec {
  const y = at.getUTCFullYear();
  const q = Math.floor(at.getUTCMonth() / 3);
  return {
    parent: "notification_logs",
    name: `notification_logs_${y}q${q + 1}`,
    from: new Date(Date.UTC(y, q * 3, 1)),
    to: new Date(Date.UTC(y, q * 3 + 3, 1)),
  };
}

/**
 * Partitions that should exist at `now` looking `monthsAhead` months ahead: every month from the current one
 * to `now + monthsAhead`, and every quarter overlapping that span. Pure, so the migration and tests share it.
 */
export function plannedPartitions(now: Date, monthsAhead: number): PartitionSpec[] {
  if (!Number.isInteger(monthsAhead) || monthsAhead < 0) throw new RangeError(`monthsAhead must be a non-negative integer, got ${monthsAhead}`);
  const months: PartitionSpec[] = [];
  for (let i = 0; i <= monthsAhead; i++) {
    months.push(monthlyPartition(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + i, 1))));
  }
  const quarters = new Map<string, PartitionSpec>();
  for (const month of months) {
    const quarter = quarterlyPartition(month.from);
    quarters.set(quarter.name, quarter);
  }
  return [...months, ...quarters.values()];
}

/** Formats a bound as an unambiguous UTC timestamptz literal. */
function boundLiteral(d: Date): string {
  return `'${d.toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "+00")}'`;
}

/** `CREATE TABLE IF NOT EXISTS … PARTITION OF …` for one spec (names are generated, never user input). */
export function createPartitionSql(spec: PartitionSpec): string {
  return (
    `create table if not exists "${spec.name}" partition of "${spec.parent}" ` +
    `for values from (${boundLiteral(spec.from)}) to (${boundLiteral(spec.to)})`
  );
}

/**
 * Creates the partitions `plannedPartitions(now, monthsAhead)` lists that do not exist yet; returns the names created.
 *
 * Idempotent. PostgreSQL refuses to create a partition while the DEFAULT partition holds rows in its range,
 * so rows already caught there are moved: within one transaction, the table is locked against concurrent
 * inserts, the rows are deleted from DEFAULT into a temporary table, the partition is created, and the rows
 * are re-inserted through the parent (keeping their ids), which routes them into the new partition.
 */
export async function ensurePartitions(orm: MikroORM, opts: { now: Date; monthsAhead: number }): Promise<string[]> {
  const created: string[] = [];
  for (const spec of plannedPartitions(opts.now, opts.monthsAhead)) {
    const made = await orm.em.fork().transactional(async (em) => {
      // Serialise concurrent maintenance runs (several instances may start the job at once).
      await em.execute("select pg_advisory_xact_lock(hashtext('movierec.partitions'))");
      const exists = await em.execute<{ exists: boolean }[]>("select to_regclass(?) is not null as exists", [`public."${spec.name}"`]);
      if (exists[0]?.exists) return false;

      const key = PARTITIONED_TABLES[spec.parent].key;
      const def = defaultPartitionName(spec.parent);
      // SHARE ROW EXCLUSIVE blocks inserts (ROW EXCLUSIVE) into the parent while rows are being moved.
      await em.execute(`lock table "${spec.parent}" in share row exclusive mode`);
      const columns = await em.execute<{ name: string }[]>(
        `select attname as name from pg_attribute
          where attrelid = ?::regclass and attnum > 0 and not attisdropped order by attnum`,
        [spec.parent],
      );
      const list = columns.map((c) => `"${c.name}"`).join(", ");
      const range = `"${key}" >= ${boundLiteral(spec.from)} and "${key}" < ${boundLiteral(spec.to)}`;
      await em.execute(
        `create temporary table partition_move on commit drop as
           with moved as (delete from "${def}" where ${range} returning *) select ${list} from moved`,
      );
      await em.execute(createPartitionSql(spec));
      await em.execute(`insert into "${spec.parent}" (${list}) select ${list} from partition_move`);
      await em.execute("drop table partition_move");
      return true;
    });
    if (made) created.push(spec.name);
  }
  return created;
}
