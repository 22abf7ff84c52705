/**
 * `npm run demo` behaves like a service: a signal to npm (what a terminal, `kill`, `timeout`, systemd or CI send) or
 * the hard death of the demo process stops every process it started — server, worker, and the private PostgreSQL
 * and redis-server — and frees every port. Runs the real npm script.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../../src/platform/dev-infra-process.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { commandOf, descendants, listening, startDemo, waitAllGone, type DemoRun } from "../support/demo-process.ts";

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** A demo on this run's PostgreSQL server (own database) and Redis (own prefix): the fast way to get a full tree. */
async function demoOnSharedServers(): Promise<{ demo: DemoRun; port: number }> {
  const db: TestDatabase = await createTestDatabase("movierec_demo", inject("adminDatabaseUrl"));
  cleanups.push(() => db.drop());
  const port = await freePort();
  const demo = startDemo(["--port", String(port), "--database-url", db.url, "--redis-url", inject("redisUrl")], {
    REDIS_PREFIX: `mrdemo${randomBytes(4).toString("hex")}`,
    LOG_LEVEL: "warn",
  });
  cleanups.push(async () => void demo.npm.kill("SIGKILL"));
  await demo.waitFor(/movierec demo is running/, 120_000);
  return { demo, port };
}

/** The processes npm started, with the two roles checked present (so "all gone" means something). */
function tree(demo: DemoRun): number[] {
  const pids = descendants(demo.npm.pid!);
  const commands = pids.map(commandOf).join("\n");
  expect(commands).toMatch(/src\/demo\/run-demo\.ts/);
  expect(commands).toMatch(/src\/main\.ts serve/);
  expect(commands).toMatch(/src\/main\.ts worker/);
  return pids;
}

describe("npm run demo stops everything it started", () => {
  // SIGINT to npm: tests/demo/demo-journey.test.ts ends that way.
  for (const signal of ["SIGHUP"] as const) {
    it(`on ${signal} to the npm process`, { timeout: 180_000 }, async () => {
      const { demo, port } = await demoOnSharedServers();
      const pids = tree(demo);
      demo.npm.kill(signal);
      expect(await waitAllGone(pids, 30_000)).toEqual([]);
      expect(await listening(port)).toBe(false);
    });
  }

  it("with --private: SIGTERM to npm stops server, worker, PostgreSQL and redis-server on the chosen ports", { timeout: 240_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "movierec-demo-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const [port, pgPort, redisPort] = [await freePort(), await freePort(), await freePort()];
    const demo = startDemo(["--private", "--port", String(port), "--pg-port", String(pgPort), "--redis-port", String(redisPort), "--data-dir", dataDir], {
      LOG_LEVEL: "warn",
      // Private servers only: not the run's (`npm run test:redis-cluster` sets REDIS_URL for the whole run).
      REDIS_URL: undefined,
      DATABASE_URL: undefined,
    });
    cleanups.push(async () => void demo.npm.kill("SIGKILL"));
    await demo.waitFor(/movierec demo is running/, 200_000);
    // Accurate log lines: a skipped server is not called unusable.
    expect(demo.output()).not.toMatch(/none usable/);
    expect(demo.output()).toMatch(/--private/);
    expect(await listening(pgPort)).toBe(true);
    expect(await listening(redisPort)).toBe(true);
    const pids = tree(demo);
    expect(pids.map(commandOf).join("\n")).toMatch(/redis-server/);
    expect(pids.map(commandOf).join("\n")).toMatch(/postgres/);
    demo.npm.kill("SIGTERM");
    expect(await waitAllGone(pids, 45_000)).toEqual([]);
    for (const p of [port, pgPort, redisPort]) expect(await listening(p)).toBe(false);
    expect((await demo.exited).code === 0 || (await demo.exited).signal === "SIGTERM").toBe(true);
  });

  it("when the demo process itself is killed hard, its children follow", { timeout: 180_000 }, async () => {
    const { demo, port } = await demoOnSharedServers();
    const pids = tree(demo);
    const runDemo = pids.find((p) => commandOf(p).includes("src/demo/run-demo.ts"))!;
    process.kill(runDemo, "SIGKILL");
    expect(await waitAllGone(pids, 30_000)).toEqual([]);
    expect(await listening(port)).toBe(false);
  });
});
