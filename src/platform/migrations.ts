/** Applying and rolling back the schema migrations registered in src/migrations/index.ts. */
import type { MikroORM } from "@mikro-orm/postgresql";

/** Applies every pending migration in order, all in one transaction; returns the names applied. */
export async function migrateUp(orm: MikroORM): Promise<string[]> {
  const applied = await orm.migrator.up();
  return applied.map((m) => m.name);
}

/** Rolls every applied migration back, newest first, leaving an empty schema (but the migrations table). */
export async function migrateDown(orm: MikroORM): Promise<void> {
  await orm.migrator.down({ to: 0 });
}

/** Names of the migrations not applied yet. */
export async function pendingMigrations(orm: MikroORM): Promise<string[]> {
  const pending = await orm.migrator.getPending();
  return pending.map((m) => m.name);
}
