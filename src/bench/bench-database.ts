/**
 * A throw-away database for one bench run: finds or starts PostgreSQL and Redis (as `npm test`
 * does), creates a uniquely named database, migrates it, and drops it again. Benches never touch
 * the demo or test databases.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { ensureInfrastructure } from "../platform/dev-infra.ts";
import { migrateUp } from "../platform/migrations.ts";
import { openOrm } from "../platform/orm.ts";
import { ensurePartitions } from "../platform/partitions.ts";

export interface BenchDatabase {
  /** postgres:// URL of the fresh, migrated database. */
  readonly url: string;
  readonly redisUrl: string;
  readonly name: string;
  /** Terminates its connections, drops the database, stops what ensureInfrastructure started. */
  drop(): Promise<void>;
}

/**
 * Creates and migrates a database of the bench's own (DATABASE_URL / REDIS_URL are honoured). For iterating on one
 * measurement: `keep` leaves it in place after `drop()`, and `reuse` opens the one a kept run named (`suffix`).
 */
export async function openBenchDatabase(opts: { partitionMonthsAhead?: number; keep?: boolean; reuse?: string } = {}): Promise<BenchDatabase & { suffix: string; reused: boolean }> {
  const infra = await ensureInfrastructure({ databaseUrl: process.env.DATABASE_URL, redisUrl: process.env.REDIS_URL, dataDir: path.resolve(".data/bench") });
  const suffix = opts.reuse ?? randomBytes(4).toString("hex");
  const name = `movierec_bench_${suffix}`;
  const admin = new pg.Client({ connectionString: infra.databaseUrl });
  await admin.connect();
  const url = new URL(infra.databaseUrl);
  url.pathname = `/${name}`;
  const drop = async () => {
    if (!opts.keep) {
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [name]);
      await admin.query(`drop database if exists "${name}"`);
    }
    await admin.end();
    await infra.stop();
  };
  if (opts.reuse) return { url: url.toString(), redisUrl: infra.redisUrl, name, drop, suffix, reused: true };
  await admin.query(`create database "${name}"`);
  try {
    const orm = await openOrm(url.toString());
    try {
      await migrateUp(orm);
      if (opts.partitionMonthsAhead !== undefined) await ensurePartitions(orm, { now: new Date(), monthsAhead: opts.partitionMonthsAhead });
    } finally {
      await orm.close();
    }
  } catch (e) {
    await drop();
    throw e;
  }
  return { url: url.toString(), redisUrl: infra.redisUrl, name, drop, suffix, reused: false };
}
