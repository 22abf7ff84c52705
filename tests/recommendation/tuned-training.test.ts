/**
 * Tuned at every training (issue 10): a training on the in-repo MovieLens sample tunes the hybrid on a temporal
 * validation split of the data it trains on, stores the chosen parameters with the model, serves with them, and
 * GetModelStatus over the real server reports the validation figures of the model being served.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { randomBytes } from "node:crypto";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { createLogger } from "../../src/platform/logger.ts";
import { migrateUp } from "../../src/platform/migrations.ts";
import { openOrm } from "../../src/platform/orm.ts";
import { readRatings } from "../../src/eval/ratings-file.ts";
import { loadSplit, readMovieInfo } from "../../src/eval/served-eval.ts";
import { evalSet } from "../../src/eval/evaluate.ts";
import { evaluateBlends, validationSplit } from "../../src/eval/tune.ts";
import { DEFAULT_TRAIN, trainRecommender } from "../../src/modules/recommendation/algorithms/recommender.ts";
import { DEFAULT_HYBRID } from "../../src/modules/recommendation/algorithms/hybrid.ts";
import { createRecommendationModule } from "../../src/modules/recommendation/index.ts";
import { loadCatalogue, loadTrainingData } from "../../src/modules/recommendation/training-data.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";

const RATINGS = "tests/fixtures/ml-latest-small/ratings.csv";
const log = createLogger({ level: "silent" });
let db: TestDatabase;
let ts: TestServer;
let staff: TestUser;
let client: Client<typeof RecommendationService>;

beforeAll(async () => {
  db = await createTestDatabase("movierec_tuned", inject("adminDatabaseUrl"));
  const orm = await openOrm(db.url);
  await migrateUp(orm);
  await orm.close();
  ts = await startTestServer({ env: { DATABASE_URL: db.url, REDIS_PREFIX: `${inject("redisPrefix")}tuned${randomBytes(3).toString("hex")}`, REC_MAX_ITEMS: "300", REC_TUNE_SECONDS: "300" } });
  client = createClient(RecommendationService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
  staff = await createTestUser(ts.deps, { staff: true, prefix: "tuned" });
  // The whole sample as `rating` interactions, movies with their MovieLens genres (the served evaluation's loader).
  const ratings = readRatings(RATINGS);
  await loadSplit(ts.deps, ratings, { train: ratings, test: { user: new Int32Array(0), item: new Int32Array(0), time: new Float64Array(0) } }, readMovieInfo(RATINGS));
}, 120_000);
afterAll(async () => {
  await ts?.deps.queues.scoring.obliterate({ force: true }).catch(() => undefined);
  await ts?.close();
  await db?.drop();
});

describe("tuning at every training", () => {
  it("stores the parameters its validation split chose, serves with them, and GetModelStatus reports their figures", async () => {
    const mod = createRecommendationModule(ts.deps);
    expect(mod.options.tuneSeconds).toBe(300);
    const { jobId } = await client.startTraining({ requestId: `tuned-${Date.now()}` }, { headers: staff.headers });
    const job = (await ts.deps.queues.scoring.getJob(jobId))!;
    const phases: string[] = [];
    const progress = job.updateProgress.bind(job);
    job.updateProgress = (p) => {
      phases.push((p as { phase?: string }).phase ?? "");
      return progress(p);
    };
    await mod.processors.train(job, log);
    expect(phases).toContain("tuning");

    const stored = (await mod.store.current())!;
    const tuning = stored.meta.tuning!;
    expect(tuning).toBeDefined();
    // The model serves what the tuning chose (scoring uses model.params), and the artefact says so.
    expect(stored.model.params).toEqual(tuning.params);
    expect(stored.meta.params).toEqual(tuning.params);
    expect(tuning.validation.truncated).toBe(false);
    expect(tuning.validation.candidates).toBeGreaterThan(100);

    // Recomputed here on the same data: the chosen parameters beat the defaults on the validation split, and the
    // figures the model carries are exactly those of the chosen parameters (scored as the workers score).
    const data = await loadTrainingData(ts.orm.em.fork(), await loadCatalogue(ts.orm.em.fork()), new Date());
    const split = validationSplit(data);
    let now = 0;
    for (const t of split.train.time) now = Math.max(now, t);
    const inner = { ...data, user: split.train.user, item: split.train.item, weight: split.train.weight, time: split.train.time, now };
    const set = evalSet(data.users, data.items, split.train, split.test);
    const train = { ...DEFAULT_TRAIN, maxItems: 300 };
    const [defaults] = evaluateBlends(trainRecommender(inner, train), set, DEFAULT_HYBRID, [DEFAULT_HYBRID], Infinity)!;
    const [chosen] = evaluateBlends(trainRecommender(inner, { ...train, lambda: tuning.lambda }), set, tuning.params, [tuning.params], Infinity)!;
    expect(chosen.ndcg).toBeCloseTo(tuning.validation.ndcg, 9);
    expect(chosen.recall).toBeCloseTo(tuning.validation.recall, 9);
    // On this sample the data moves the parameters away from the defaults (the search only moves on a strict gain).
    expect({ ...tuning.params, lambda: tuning.lambda }).not.toEqual({ ...DEFAULT_HYBRID, lambda: DEFAULT_TRAIN.lambda });
    expect(chosen.ndcg).toBeGreaterThan(defaults.ndcg);

    // GetModelStatus over the real server: the served model's validation figures, each in (0, 1].
    const { status } = await client.getModelStatus({}, { headers: staff.headers });
    expect(status?.modelVersion).toBe(stored.meta.version);
    const v = status!.validation!;
    for (const x of [v.ndcgAt10, v.recallAt10, v.hitRateAt10, v.coverageAt10]) {
      expect(x).toBeGreaterThan(0);
      expect(x).toBeLessThanOrEqual(1);
    }
    expect(v.ndcgAt10).toBeCloseTo(tuning.validation.ndcg, 12);
    expect(v.users).toBe(set.test.size);
    expect(v.heldOutInteractions).toBe(split.test.user.length);
    expect(Number(v.trainInteractions)).toBe(split.train.user.length);
    expect(v.parameters).toMatchObject({
      recencyTau: tuning.params.tau, recencyFloor: tuning.params.floor, knnWeight: tuning.params.knn,
      contentWeight: tuning.params.content, trendingWeight: tuning.params.trending, easeLambda: tuning.lambda,
    });
  }, 600_000);
});
