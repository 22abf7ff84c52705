/**
 * Scheduled upkeep of the monthly `user_activity_logs` partitions: months that only the DEFAULT partition holds (late
 * or far-dated events) get their own partition (ensurePartitions moves the rows), the coming months are created
 * ahead, and months older than the retention are detached and either moved to the `archive` schema (still queryable,
 * to be dumped and dropped by operators: the design's archive strategy) or dropped, per ANALYTICS_ARCHIVE_MODE.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import { ensurePartitions, monthlyPartition } from "../../platform/partitions.ts";

export interface MaintenanceOptions {
  readonly now: Date;
  readonly monthsAhead: number;
  readonly retentionMonths: number;
  readonly archiveMode: "archive" | "drop";
}

export interface MaintenanceResult {
  readonly created: string[];
  readonly archived: string[];
  readonly dropped: string[];
}

const MONTHLY = /^user_activity_logs_y(\d{4})m(\d{2})$/;

/** Partitions whose whole month ends on or before the first day of (current month − retentionMonths). */
export function expiredPartitions(names: readonly string[], now: Date, retentionMonths: number): string[] {
  const cutoff = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - retentionMonths, 1);
  return names.filter((n) => {
    const m = MONTHLY.exec(n);
    return m !== null && Date.UTC(Number(m[1]), Number(m[2]), 1) <= cutoff;
  });
}

/** Runs the upkeep once; safe to run concurrently and repeatedly (every step is idempotent). */
export async function maintainPartitions(orm: MikroORM, opts: MaintenanceOptions): Promise<MaintenanceResult> {
  const em = orm.em.fork();
  const created: string[] = [];
  const strays = await em.execute<{ month: Date }[]>(
    `select distinct date_trunc('month', "timestamp" at time zone 'UTC') at time zone 'UTC' as month from user_activity_logs_default`,
  );
  for (const { month } of strays) created.push(...(await ensurePartitions(orm, { now: new Date(month), monthsAhead: 0 })));
  created.push(...(await ensurePartitions(orm, { now: opts.now, monthsAhead: opts.monthsAhead })));

  const parts = await em.execute<{ name: string }[]>(
    `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'user_activity_logs'::regclass`,
  );
  const expired = expiredPartitions(
    parts.map((p) => p.name),
    opts.now,
    opts.retentionMonths,
  ).filter((n) => n !== monthlyPartition(opts.now).name);
  const archived: string[] = [];
  const dropped: string[] = [];
  for (const name of expired) {
    await orm.em.fork().transactional(async (tx) => {
      await tx.execute("select pg_advisory_xact_lock(hashtext('movierec.partitions'))");
      const still = await tx.execute<{ ok: boolean }[]>(
        `select exists (select 1 from pg_inherits i join pg_class c on c.oid = i.inhrelid
                         where i.inhparent = 'user_activity_logs'::regclass and c.relname = ?) as ok`,
        [name],
      );
      if (!still[0]?.ok) return;
      await tx.execute(`alter table user_activity_logs detach partition "${name}"`);
      if (opts.archiveMode === "drop") {
        await tx.execute(`drop table "${name}"`);
        dropped.push(name);
      } else {
        await tx.execute("create schema if not exists archive");
        await tx.execute(`alter table "${name}" set schema archive`);
        archived.push(name);
      }
    });
  }
  return { created, archived, dropped };
}
