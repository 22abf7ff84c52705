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

/**
 * Polls `probe` until it returns a value other than undefined; fails with `what` after `timeoutMs`, adding what
 * `explain` says about the state then (a failure on a loaded CI machine must say where things stood).
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 50,
  explain?: () => Promise<string> | string,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) {
      const state = explain ? await Promise.resolve(explain()).catch((e: Error) => `(explain failed: ${e.message})`) : "";
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ""}${state ? `\n${state}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
