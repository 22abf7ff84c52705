/**
 * ensureInfrastructure: reachable URLs are used untouched; with nothing reachable it
 * really starts an embedded PostgreSQL and a private redis-server, and stop() ends them.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";
import { ensureInfrastructure } from "../../src/platform/dev-infra.ts";
import { freePort } from "../../src/platform/dev-infra-process.ts";
import { probePostgres } from "../../src/platform/dev-infra-postgres.ts";
import { probeRedis } from "../../src/platform/dev-infra-redis.ts";

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "movierec-infra-"));
  tempDirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

describe("ensureInfrastructure with given URLs", () => {
  it("returns reachable URLs untouched and stops nothing", async () => {
    const databaseUrl = inject("databaseUrl");
    const redisUrl = inject("redisUrl");
    const dataDir = await tempDir();
    const infra = await ensureInfrastructure({ databaseUrl, redisUrl, dataDir });
    expect(infra).toMatchObject({ databaseUrl, redisUrl, startedPostgres: false, startedRedis: false });
    await infra.stop();
    expect(await probePostgres(databaseUrl)).toBeUndefined();
    expect(await probeRedis(redisUrl)).toBeUndefined();
    // Nothing was started, so nothing was written.
    await expect(stat(join(dataDir, "postgres"))).rejects.toThrow();
  });

  it("fails clearly when a given PostgreSQL URL does not answer", async () => {
    const closed = await freePort();
    await expect(
      ensureInfrastructure({ databaseUrl: `postgres://postgres@127.0.0.1:${closed}/movierec`, redisUrl: inject("redisUrl"), dataDir: await tempDir() }),
    ).rejects.toThrow(/PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/movierec is not reachable/);
  });

  it("fails clearly when a given Redis URL does not answer", async () => {
    const closed = await freePort();
    await expect(
      ensureInfrastructure({ databaseUrl: inject("databaseUrl"), redisUrl: `redis://127.0.0.1:${closed}`, dataDir: await tempDir() }),
    ).rejects.toThrow(/Redis at redis:\/\/127\.0\.0\.1:\d+ is not reachable/);
  });
});

describe("ensureInfrastructure with nothing reachable", () => {
  it("starts an embedded PostgreSQL and a private redis-server that answer, and stop() ends both", { timeout: 90_000 }, async () => {
    const closed = await freePort();
    const dataDir = await tempDir();
    const messages: string[] = [];
    const infra = await ensureInfrastructure({
      dataDir,
      probePostgresUrl: `postgres://postgres@127.0.0.1:${closed}/postgres`,
      probeRedisUrl: `redis://127.0.0.1:${closed}`,
      log: (m) => messages.push(m),
    });
    let stopped = false;
    try {
      expect(infra.startedPostgres).toBe(true);
      expect(infra.startedRedis).toBe(true);
      expect(messages.join("\n")).toMatch(/starting an embedded one/);

      const client = new pg.Client({ connectionString: infra.databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ db: string; version: string }>("select current_database() as db, version() as version");
        expect(rows[0]!.db).toBe("movierec");
        expect(rows[0]!.version).toMatch(/^PostgreSQL 15\./);
        // The migrations need pg_trgm: the embedded build must ship it.
        await client.query("create extension if not exists pg_trgm");
        expect((await client.query("select similarity('lighthouse', 'lighthous') > 0.5 as close")).rows[0]).toEqual({ close: true });
      } finally {
        await client.end();
      }
      expect((await stat(join(dataDir, "postgres", "PG_VERSION"))).isFile()).toBe(true);

      const redis = new Redis(infra.redisUrl, { maxRetriesPerRequest: 1 });
      try {
        await redis.set("movierec:infra-test", "ok");
        expect(await redis.get("movierec:infra-test")).toBe("ok");
        // No persistence: nothing may be written on shutdown.
        expect(await redis.config("GET", "save")).toEqual(["save", ""]);
      } finally {
        redis.disconnect();
      }

      await infra.stop();
      stopped = true;
      expect(await probePostgres(infra.databaseUrl, 1000)).toMatch(/ECONNREFUSED/);
      expect(await probeRedis(infra.redisUrl, 1000)).toBeDefined();
      await infra.stop(); // idempotent
    } finally {
      if (!stopped) await infra.stop();
    }
  });
});
