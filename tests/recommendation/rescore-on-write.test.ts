/**
 * "Each write schedules one debounced rescoring of the user" (README "Recommendations", review of 2026-11-30,
 * item 11), through the real RPCs: a burst of RecordInteraction and DeleteInteraction calls leaves exactly one
 * delayed `rescore-<user>` job in the real scoring queue, and the user's `rescore_requests` row (the outbox that the
 * sweep re-enqueues from if Redis loses the job).
 */
import { randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { InteractionType } from "../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser } from "../auth/test-users.ts";

let ts: TestServer;
let recs: Client<typeof RecommendationService>;
beforeAll(async () => {
  // A queue prefix of this file's own and a long debounce, so the job is still waiting when the test looks.
  ts = await startTestServer({ env: { REDIS_PREFIX: `${inject("redisPrefix")}rw${process.pid}`, REC_RESCORE_DEBOUNCE_MS: "600000" } });
  recs = createClient(RecommendationService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
});
afterAll(async () => {
  await ts?.deps.queues.scoring.obliterate({ force: true }).catch(() => undefined);
  await ts?.close();
});

describe("rescoring after writes", () => {
  it("a burst of RecordInteraction / DeleteInteraction calls schedules one delayed rescoring and one outbox row", async () => {
    const user = await createTestUser(ts.deps, { prefix: "rw" });
    const movies: string[] = [];
    for (let k = 0; k < 3; k++) {
      const tmdb = randomInt(10_000_000, 2_000_000_000);
      const [m] = await ts.orm.em
        .fork()
        .execute<{ id: string }[]>("insert into movies (tmdb_id, title, original_title, original_language) values (?, ?, ?, 'en') returning id::text as id", [tmdb, `RW ${tmdb}`, `RW ${tmdb}`]);
      movies.push(m!.id);
    }
    const queue = ts.deps.queues.scoring;
    expect(await queue.getJob(`rescore-${user.userId}`)).toBeUndefined();
    for (const movieId of movies) await recs.recordInteraction({ movieId, type: InteractionType.LIKE }, { headers: user.headers });
    await recs.deleteInteraction({ target: { case: "key", value: { movieId: movies[0]!, type: InteractionType.LIKE } } }, { headers: user.headers });
    const job = await queue.getJob(`rescore-${user.userId}`);
    expect(job, "no rescoring job after the writes").toBeDefined();
    expect(await job!.getState()).toBe("delayed");
    expect(job!.data).toEqual({ userId: user.userId });
    const jobs = (await queue.getJobs(["delayed", "waiting", "active"])).filter((j) => (j.data as { userId?: string }).userId === user.userId);
    expect(jobs).toHaveLength(1);
    const rows = await ts.orm.em.fork().execute("select user_id::text as user_id from rescore_requests where user_id = ?", [user.userId]);
    expect(rows).toEqual([{ user_id: user.userId }]);
  });
});
