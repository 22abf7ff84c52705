/**
 * The served evaluation on the in-repo MovieLens sample: the split goes through the real train and score-all jobs and
 * GetRecommendations on a real server, and scores what the offline evaluation scores for the same model (one
 * pipeline: same weights, same items in the same order, same tuning, same candidates).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { randomBytes } from "node:crypto";
import { loadConfig } from "../../src/platform/config.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { migrateUp } from "../../src/platform/migrations.ts";
import { openOrm } from "../../src/platform/orm.ts";
import { evaluate, historyOf } from "../../src/eval/evaluate.ts";
import { offlineModel } from "../../src/eval/offline-model.ts";
import { readMovieInfo, servedEvaluation } from "../../src/eval/served-eval.ts";
import { scoreUser } from "../../src/modules/recommendation/algorithms/recommender.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

const RATINGS = "tests/fixtures/ml-latest-small/ratings.csv";
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase("movierec_served", inject("adminDatabaseUrl"));
  const orm = await openOrm(db.url);
  await migrateUp(orm);
  await orm.close();
});
afterAll(async () => {
  await db?.drop();
});

describe("served evaluation", () => {
  it("scores every test user's served hybrid list as the offline evaluation scores the same model", async () => {
    const maxItems = 300;
    // The offline side as `npm run eval` builds it: same weights, same items in the same order, tuned by the same
    // function on the same training part (a budget this sample never reaches, so neither search is cut short).
    const offline = offlineModel(RATINGS, { maxItems, tuneSeconds: 600 });
    const { ratings, split, set, model, tuned } = offline;
    const config = loadConfig({
      NODE_ENV: "test", LOG_LEVEL: "silent", DATABASE_URL: db.url, REDIS_URL: inject("redisUrl"), REDIS_PREFIX: `${inject("redisPrefix")}served${randomBytes(3).toString("hex")}`,
      HOST: "127.0.0.1", PORT: "0", DB_POOL_MAX: "4", REC_MAX_ITEMS: String(maxItems), REC_TUNE_SECONDS: "600",
    });
    const served = await servedEvaluation(config, createLogger({ level: "silent" }), { ratings, split, set, movies: readMovieInfo(RATINGS) });
    expect(served.hybrid.users).toBe(set.test.size);

    // The training job tuned on the data it read from PostgreSQL and chose what the offline tuning chose.
    const meta = served.modelMeta as { params: unknown; lambda: number; tuning: { validation: { ndcg: number } } };
    expect(meta.params).toEqual(tuned.params);
    expect(meta.lambda).toBe(tuned.lambda);
    expect(meta.tuning.validation.ndcg).toBeCloseTo(tuned.validation.ndcg, 6);

    const hybrid = evaluate(set, (u, ex) => scoreUser(model, historyOf(set, u), "hybrid", ex));
    expect(hybrid.ndcg).toBeGreaterThan(0.05);
    // One pipeline: the lists users get are the lists the evaluation scores (float rounding aside).
    expect(served.hybrid.ndcg).toBeCloseTo(hybrid.ndcg, 3);
    expect(served.hybrid.recall).toBeCloseTo(hybrid.recall, 3);
    expect(served.seconds.train).toBeGreaterThan(0);
  }, 600_000);
});
