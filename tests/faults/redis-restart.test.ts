/**
 * Issue 11, row 4: Redis stopped (killed) and restarted empty under a running worker and server.
 *
 * What must hold, without restarting either process:
 * - every repeatable-job scheduler of the worker (outbox sweep, digest tick, daily alerts, rescoring sweep, nightly
 *   training, daily aggregation, partition upkeep) exists again within 10 s of Redis coming back;
 * - a notification queued while Redis was down (its row committed, its job never enqueued) is delivered;
 * - RecordInteraction called while Redis was down answers OK, and that interaction's rescoring runs after the
 *   restart (the rescoring outbox row is swept; the worker puts back the model Redis lost);
 * - the recovery times are printed with the machine's load.
 */
import { loadavg } from "node:os";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { InteractionType } from "../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { createRecommendationModule } from "../../src/modules/recommendation/index.ts";
import { recordInteraction } from "../../src/modules/recommendation/interactions.ts";
import { trainAndPublish } from "../../src/modules/recommendation/scoring.ts";
import type { QueueName } from "../../src/platform/queues.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import type { TestDatabase } from "../support/database.ts";
import { createTestUser } from "../auth/test-users.ts";
import { seedGenre, seedMovie, seedUser } from "../recommendation/fixtures.ts";
import { startLocalSmtp, type LocalSmtp } from "../notification/local-providers.ts";
import { makeTemplate, moduleFor } from "../notification/helpers.ts";
import { startPrivateRedis, type PrivateRedis } from "./support/private-redis.ts";
import { startWorkerProcess, type WorkerProcess } from "./support/worker-process.ts";
import { createMigratedDatabase, waitUntil } from "./support/own-database.ts";

const SCHEDULERS: [QueueName, string][] = [
  ["delivery", "notification-sweep"],
  ["delivery", "notification-digest-tick"],
  ["delivery", "notification-daily-alerts"],
  ["scoring", "recommendation-rescore-sweep"],
  ["scoring", "recommendation-nightly-train"],
  ["analytics", "daily-aggregation"],
  ["analytics", "partition-maintenance"],
];

let redis: PrivateRedis;
let db: TestDatabase;
let smtp: LocalSmtp;
let ts: TestServer;
let worker: WorkerProcess;

beforeAll(async () => {
  [redis, db, smtp] = await Promise.all([startPrivateRedis(), createMigratedDatabase(), startLocalSmtp()]);
  const env = {
    NODE_ENV: "test",
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    REDIS_PREFIX: `${inject("redisPrefix")}f4`,
    DB_POOL_MAX: "4",
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(smtp.port),
    SMTP_TIMEOUT_MS: "700",
    DELIVERY_LEASE_MS: "1500",
    DELIVERY_SWEEP_MS: "500",
    DIGEST_TICK_MS: "3600000",
    REC_RESCORE_DEBOUNCE_MS: "200",
    REC_RESCORE_SWEEP_MS: "500",
    REC_MAX_ITEMS: "300",
    REC_TOP_N: "10",
    WORKER_SCHEDULE_CHECK_MS: "1000",
  };
  ts = await startTestServer({ env });
  worker = startWorkerProcess(env);
});
afterAll(async () => {
  await worker?.kill("SIGKILL");
  await ts?.close();
  await Promise.all([redis?.destroy(), smtp?.close()]);
  await db?.drop();
});

const schedulersPresent = async () => {
  const found = await Promise.all(SCHEDULERS.map(([q, id]) => ts.deps.queues[q].getJobScheduler(id).catch(() => undefined)));
  return found.every((s) => s !== undefined) ? true : undefined;
};

describe("Redis stopped and restarted empty", () => {
  it("gets the worker's schedulers back and loses neither a queued notification nor a rescoring", async () => {
    const orm = ts.orm;
    await waitUntil("schedulers registered at start", schedulersPresent);

    // A trained model the worker has loaded: eight users liking five of six movies, rescored by the worker.
    const genre = await seedGenre(orm);
    const movies = await Promise.all(Array.from({ length: 6 }, () => seedMovie(orm, undefined, [genre])));
    for (let u = 0; u < 8; u++) {
      const id = await seedUser(orm);
      for (let k = 0; k < 5; k++) await recordInteraction(orm.em, { userId: id, movieId: movies[(k + u) % 6]!, type: "like", clientTime: new Date(Date.now() - (10 - k) * 3_600_000) });
    }
    const rec = createRecommendationModule({ ...ts.deps }, { topN: 10, maxItems: 300 });
    await trainAndPublish(orm, rec.store, { topN: 10, maxItems: 300 });
    const pendingRescores = async () => Number((await orm.em.fork().execute<{ n: number }[]>("select count(*)::int as n from rescore_requests"))[0]!.n);
    await waitUntil("the seed users rescored by the worker", async () => ((await pendingRescores()) === 0 ? true : undefined), 30_000, 100);

    const alice = await createTestUser(ts.deps, { prefix: "f4" });
    const m = moduleFor(ts.deps);
    const template = await makeTemplate(m, "email_recommendation", { subject: "During the outage", text: "queued while Redis was down" });
    const client = createClient(RecommendationService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));

    await redis.stop("SIGKILL");
    const outageStarted = performance.now();
    // Work recorded in PostgreSQL while Redis is down.
    const recorded = await client.recordInteraction({ movieId: movies[5]!, type: InteractionType.LIKE }, { headers: alice.headers });
    expect(recorded.created).toBe(true);
    const queued = await m.outbox.queue([{ idempotencyKey: `f4-${alice.userId}`, userId: alice.userId, kind: "manual", template, data: {} }]);
    const logId = queued.get(`f4-${alice.userId}`)!.logs[0]!.id;
    expect((await orm.em.fork().execute<{ n: number }[]>("select count(*)::int as n from rescore_requests where user_id = ?", [alice.userId]))[0]!.n).toBe(1);
    await new Promise((r) => setTimeout(r, 2000));

    await redis.start(); // empty: no persistence
    const back = performance.now();
    const since = () => Math.round(performance.now() - back);
    const [schedulersMs, deliveredMs, rescoredMs] = await Promise.all([
      waitUntil("every scheduler back", schedulersPresent, 15_000, 50).then(since),
      waitUntil("the notification queued during the outage delivered", async () => (smtp.received.some((r) => r.notificationId === logId) ? true : undefined), 20_000).then(since),
      waitUntil(
        "the outage's interaction rescored",
        async () => {
          const rows = await orm.em.fork().execute<{ pending: number; fresh: number }[]>(
            `select (select count(*)::int from rescore_requests where user_id = ?::bigint) as pending,
                    (select count(*)::int from user_recommendation_lists where user_id = ?::bigint
                      and generated_at >= (select "timestamp" from user_movie_interactions where id = ?::bigint)) as fresh`,
            [alice.userId, alice.userId, recorded.interaction!.id],
          );
          return rows[0]!.pending === 0 && rows[0]!.fresh > 0 ? true : undefined;
        },
        20_000,
        100,
      ).then(since),
    ]);
    // The relay has it; the worker records it as sent right after.
    await waitUntil("the notification recorded as sent", async () => ((await orm.em.fork().execute<{ status: string }[]>("select status from notification_logs where id = ?", [logId]))[0]!.status === "sent" ? true : undefined), 10_000);
    expect(worker.lines.some((l) => String(l.msg).includes("registered again"))).toBe(true);
    expect(worker.child.exitCode).toBeNull(); // recovered without a restart
    expect(schedulersMs).toBeLessThan(10_000);
    console.log(
      `[fault] redis restarted empty after a ${Math.round(back - outageStarted)} ms outage: schedulers back in ${schedulersMs} ms, ` +
        `queued notification delivered in ${deliveredMs} ms, interaction rescored in ${rescoredMs} ms ` +
        `(WORKER_SCHEDULE_CHECK_MS=1000, DELIVERY_SWEEP_MS=500, REC_RESCORE_SWEEP_MS=500; load ${loadavg().map((l) => l.toFixed(2)).join(" ")})`,
    );
  }, 120_000);
});
