/**
 * Migration 0001: the whole initial schema of the design, hand-written SQL (never generated from the entities,
 * so the database keeps what the ORM cannot express: partitions, partial and expression indexes, CHECKs).
 */
import { Migration } from "@mikro-orm/migrations";
import { createPartitionSql, plannedPartitions } from "../platform/partitions.ts";
import { ANALYTICS_TABLES, AUDIT_TABLES, ALL_TABLES_DROP_ORDER, NOTIFICATION_TABLES } from "./0001-ddl-logs.ts";
import { CATALOG_TABLES, RECOMMENDATION_TABLES, USER_TABLES } from "./0001-ddl-core.ts";

/** Months of explicit partitions created up front; the nightly `ensurePartitions` job keeps extending them. */
const INITIAL_MONTHS_AHEAD = 3;

export class InitialSchema extends Migration {
  override up(): void {
    // Trigram indexes make `ILIKE '%term%'` and similarity() searches on titles and names index-assisted.
    this.addSql("create extension if not exists pg_trgm");
    for (const sql of [
      ...USER_TABLES,
      ...CATALOG_TABLES,
      ...RECOMMENDATION_TABLES,
      ...NOTIFICATION_TABLES,
      ...ANALYTICS_TABLES,
      ...AUDIT_TABLES,
    ]) {
      this.addSql(sql);
    }
    // Partitions for the period the migration runs in and the next ones; rows outside land in DEFAULT.
    for (const spec of plannedPartitions(new Date(), INITIAL_MONTHS_AHEAD)) this.addSql(createPartitionSql(spec));
  }

  override down(): void {
    // Dropping a partitioned table drops its partitions (and DEFAULT) with it.
    for (const table of ALL_TABLES_DROP_ORDER) this.addSql(`drop table if exists "${table}"`);
    this.addSql("drop extension if exists pg_trgm");
  }
}
