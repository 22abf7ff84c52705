/**
 * A migrated database of the fault test's own. Fault tests run the real worker role, whose sweepers act on every
 * pending row of the database they are given: on the run's shared test database they would deliver or rescore
 * other test files' rows. `serverUrl` is the shared server (default) or a private cluster.
 */
import { inject } from "vitest";
import { openOrm } from "../../../src/platform/orm.ts";
import { migrateUp } from "../../../src/platform/migrations.ts";
import { ensurePartitions } from "../../../src/platform/partitions.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";

export async function createMigratedDatabase(serverUrl: string = inject("adminDatabaseUrl")): Promise<TestDatabase> {
  const db = await createTestDatabase("movierec_fault", serverUrl);
  const orm = await openOrm(db.url, { poolMax: 2 });
  try {
    await migrateUp(orm);
    await ensurePartitions(orm, { now: new Date(), monthsAhead: 1 });
  } finally {
    await orm.close();
  }
  return db;
}

/** Moved to src/ for `npm run test:scale`; the tests keep importing it from here. */
export { waitUntil } from "../../../src/platform/wait-until.ts";
