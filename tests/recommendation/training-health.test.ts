/**
 * Health stays up while a training runs (issue 10): the server and a scoring worker in one process, the in-repo
 * MovieLens sample (5,000 ratings — far smaller than ml-latest-small's 100,836, whose latencies `npm run
 * bench:training-health` measures) loaded as ratings, a training job run by the real worker, /healthz polled
 * throughout. The fit runs in a worker thread, so no probe may fail and the event loop is never blocked for long.
 * Latency thresholds are the bench's business: this machine is shared, so the test only bounds what load cannot
 * explain (a blocked loop of a second or more is the fit on the main thread, not a busy neighbour).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { randomBytes } from "node:crypto";
import { loadConfig } from "../../src/platform/config.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { migrateUp } from "../../src/platform/migrations.ts";
import { openOrm } from "../../src/platform/orm.ts";
import { healthDuringTraining } from "../../src/bench/health-during-training.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase("movierec_trainhealth", inject("adminDatabaseUrl"));
  const orm = await openOrm(db.url);
  await migrateUp(orm);
  await orm.close();
});
afterAll(async () => {
  await db?.drop();
});

describe("health during training", () => {
  it("answers every /healthz probe SERVING while the worker trains and scores, the event loop never blocked ≥ 1 s", async () => {
    const config = loadConfig({
      NODE_ENV: "test", LOG_LEVEL: "silent", DATABASE_URL: db.url, REDIS_URL: inject("redisUrl"), REDIS_PREFIX: `${inject("redisPrefix")}trainhealth${randomBytes(3).toString("hex")}`,
      HOST: "127.0.0.1", PORT: "0", DB_POOL_MAX: "4", REC_MAX_ITEMS: "300",
    });
    const r = await healthDuringTraining(config, createLogger({ level: "silent" }), { ratingsPath: "tests/fixtures/ml-latest-small/ratings.csv", intervalMs: 20, controlMs: 500 });
    expect(r.ratings).toBe(5000);
    // The probes really overlapped the training (tuning and fitting, in the thread).
    expect(r.phases).toEqual(expect.arrayContaining(["tuning", "fitting"]));
    expect(r.stages.training.probes).toBeGreaterThanOrEqual(10);
    expect(r.failures).toEqual([]);
    expect(r.loopDelayMaxMs).toBeLessThan(1000);
  }, 600_000);
});
