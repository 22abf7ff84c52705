/** Shared setup of the database tests: a private migrated database per test file, and assertions on errors. */
import { expect, inject } from "vitest";
import type { MikroORM } from "@mikro-orm/postgresql";
import { migrateUp } from "../../src/platform/migrations.ts";
import { openOrm } from "../../src/platform/orm.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

export interface MigratedDatabase {
  readonly db: TestDatabase;
  readonly orm: MikroORM;
  /** Closes the ORM and drops the database. */
  close(): Promise<void>;
}

/** Admin URL provided by the global setup when it runs (e.g. an embedded server); undefined means the local default. */
export function adminUrl(): string | undefined {
  try {
    return inject("adminDatabaseUrl");
  } catch {
    return undefined;
  }
}

/** A fresh database of its own, optionally migrated to the latest schema. */
export async function openTestDatabase(prefix: string, opts: { migrate?: boolean } = {}): Promise<MigratedDatabase> {
  const db = await createTestDatabase(prefix, adminUrl());
  const orm = await openOrm(db.url, { poolMax: 4 });
  if (opts.migrate ?? true) await migrateUp(orm);
  return {
    db,
    orm,
    async close() {
      await orm.close(true);
      await db.drop();
    },
  };
}

/** Runs raw SQL on a fresh fork (outside any transaction) and returns the rows. */
export async function sql<T = Record<string, unknown>>(orm: MikroORM, query: string, params: unknown[] = []): Promise<T[]> {
  return orm.em.fork().execute<T[]>(query, params);
}

/** Inserts one row with raw SQL and returns its id (as a string, like the entities). */
export async function insert(orm: MikroORM, table: string, values: Record<string, unknown>): Promise<string> {
  const cols = Object.keys(values);
  const rows = await sql<{ id: string | number }>(
    orm,
    `insert into "${table}" (${cols.map((c) => `"${c}"`).join(", ")}) values (${cols.map(() => "?").join(", ")}) returning id`,
    cols.map((c) => values[c]),
  );
  return String(rows[0]!.id);
}

/** Asserts that `promise` fails because the database rejected it through the named constraint (or index). */
export async function expectViolation(promise: Promise<unknown>, constraint: string): Promise<void> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a violation of ${constraint}`).toBeInstanceOf(Error);
  expect((err as { constraint?: string }).constraint).toBe(constraint);
}

let seq = 0;
/** A number unique within this test process, for unique columns (usernames, TMDb ids, tokens). */
export function unique(): number {
  seq += 1;
  return seq;
}

/** Inserts a user with only the required columns. */
export async function seedUser(orm: MikroORM, overrides: Record<string, unknown> = {}): Promise<string> {
  const n = unique();
  return insert(orm, "users", { username: `user${n}`, email: `user${n}@example.test`, password: "x", ...overrides });
}

/** Inserts a movie with only the required columns. */
export async function seedMovie(orm: MikroORM, overrides: Record<string, unknown> = {}): Promise<string> {
  const n = unique();
  return insert(orm, "movies", { tmdb_id: 100_000 + n, title: `Movie ${n}`, original_title: `Movie ${n}`, original_language: "en", ...overrides });
}

/** Inserts a genre. */
export async function seedGenre(orm: MikroORM): Promise<string> {
  const n = unique();
  return insert(orm, "genres", { tmdb_id: 200_000 + n, name: `Genre ${n}`, slug: `genre-${n}` });
}

/** Inserts a person. */
export async function seedPerson(orm: MikroORM): Promise<string> {
  const n = unique();
  return insert(orm, "persons", { tmdb_id: 300_000 + n, name: `Person ${n}`, known_for_department: "Acting" });
}

/** Number of rows of `table` matching `where` (a trusted SQL fragment). */
export async function count(orm: MikroORM, table: string, where: string, params: unknown[] = []): Promise<number> {
  const rows = await sql<{ n: string }>(orm, `select count(*) as n from "${table}" where ${where}`, params);
  return Number(rows[0]!.n);
}
