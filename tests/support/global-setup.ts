/**
 * Runs once per `npm test`: makes PostgreSQL and Redis available (the ones at DATABASE_URL /
 * REDIS_URL, the local defaults, or a private embedded PostgreSQL and redis-server), creates a
 * database of this run's own and migrates it, and picks a Redis db + key prefix of its own, so
 * concurrent runs cannot disturb each other.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { ensureInfrastructure } from "../../src/platform/dev-infra.ts";
import { openOrm } from "../../src/platform/orm.ts";
import { migrateUp } from "../../src/platform/migrations.ts";
import { ensurePartitions } from "../../src/platform/partitions.ts";
import { createTestDatabase } from "./database.ts";
import { buildConsole } from "../../src/console/build.ts";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    adminDatabaseUrl: string;
    redisUrl: string;
    redisPrefix: string;
  }
}

export default async function setup(project: TestProject) {
  const infra = await ensureInfrastructure({
    databaseUrl: process.env.DATABASE_URL,
    redisUrl: process.env.REDIS_URL,
    dataDir: path.resolve(".data/test"),
    log: (msg) => console.log(`[test setup] ${msg}`),
  });
  // Once per run, before any test file: the console test and the TLS test read dist/console (never built concurrently).
  await buildConsole();
  const db = await createTestDatabase("movierec_test", infra.databaseUrl);
  const orm = await openOrm(db.url);
  try {
    await migrateUp(orm);
    await ensurePartitions(orm, { now: new Date(), monthsAhead: 3 });
  } finally {
    await orm.close();
  }
  project.provide("databaseUrl", db.url);
  project.provide("adminDatabaseUrl", infra.databaseUrl);
  project.provide("redisUrl", infra.redisUrl);
  project.provide("redisPrefix", `mrtest${randomBytes(4).toString("hex")}`);
  return async () => {
    await db.drop();
    await infra.stop();
  };
}
