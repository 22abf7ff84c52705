/**
 * Throw-away PostgreSQL databases for tests: each test file gets its own, uniquely named, so files running in
 * parallel (and several checkouts sharing one server) never see each other's rows.
 */
import { randomBytes } from "node:crypto";
import { MikroORM } from "@mikro-orm/postgresql";

/** Where test databases are created when no admin URL is given (trust auth on the local server). */
export const DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  /** Connection URL of the new, empty database. */
  readonly url: string;
  /** Name of the new database. */
  readonly name: string;
  /** Terminates its connections and drops it. */
  drop(): Promise<void>;
}

/** Runs `sql` statements on the admin database through a short-lived, entity-less ORM connection. */
async function onAdmin(adminUrl: string, statements: string[]): Promise<void> {
  const orm = await MikroORM.init({
    clientUrl: adminUrl,
    entities: [],
    discovery: { warnWhenNoEntities: false },
    ensureDatabase: false,
    allowGlobalContext: true,
    pool: { min: 0, max: 1 },
  });
  try {
    for (const sql of statements) await orm.em.getConnection().execute(sql);
  } finally {
    await orm.close(true);
  }
}

/** Creates a fresh empty database named `${prefix}_${pid}_${random}` (prefix: lowercase letters, digits, `_`). */
export async function createTestDatabase(prefix: string, adminUrl: string = DEFAULT_ADMIN_URL): Promise<TestDatabase> {
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(prefix)) throw new Error(`invalid test database prefix ${JSON.stringify(prefix)}`);
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
  await onAdmin(adminUrl, [`create database "${name}"`]);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await onAdmin(adminUrl, [
        // Connections left open by a failed test would otherwise make DROP DATABASE fail.
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}' and pid <> pg_backend_pid()`,
        `drop database if exists "${name}"`,
      ]);
    },
  };
}
