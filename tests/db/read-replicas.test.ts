/**
 * Reads on a real streaming replica (a private primary and a `pg_basebackup -R` copy; src/platform/dev-infra-replicated-postgres.ts),
 * through the real server with DATABASE_REPLICA_URLS. The replica's replay is paused, so it is a snapshot that the
 * primary moves past, and every answer shows which server it came from:
 * - catalogue reads and the served lists of a user who wrote nothing come from the replica (the movie added to the
 *   primary since the pause is missing there), and the replica's pg_stat_activity shows the API's connections;
 * - a user's own reads after their write come from the primary: ListInteractions has the like at once, and their
 *   GetRecommendations already leaves the liked movie out and has the new one;
 * - a staff edit is read back edited at once (the catalogue cache loads from the primary right after a write);
 * - with the replica stopped, reads fall back to the primary.
 */
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AnalyticsService, TopMoviesMetric } from "../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { InteractionType } from "../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { openOrm } from "../../src/platform/orm.ts";
import { migrateUp } from "../../src/platform/migrations.ts";
import { ensurePartitions } from "../../src/platform/partitions.ts";
import { startReplicatedPostgres, type ReplicatedPostgres } from "../../src/platform/dev-infra-replicated-postgres.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser } from "../auth/test-users.ts";
import { seedMovie } from "../recommendation/fixtures.ts";

let rp: ReplicatedPostgres | undefined;
let ts: TestServer;
const withName = (url: string, name: string) => `${url}?application_name=${name}`;

beforeAll(async () => {
  rp = await startReplicatedPostgres();
  if (!rp) return;
  const orm = await openOrm(rp.primaryUrl, { poolMax: 2 });
  try {
    await migrateUp(orm);
    await ensurePartitions(orm, { now: new Date(), monthsAhead: 1 });
  } finally {
    await orm.close();
  }
  ts = await startTestServer({
    env: {
      DATABASE_URL: withName(rp.primaryUrl, "movierec-primary"),
      DATABASE_REPLICA_URLS: withName(rp.replicaUrl, "movierec-replica"),
      DATABASE_READ_YOUR_WRITES_MS: "60000",
      REDIS_PREFIX: `${inject("redisPrefix")}replica${process.pid}`,
    },
  });
}, 180_000);
afterAll(async () => {
  await ts?.close();
  await rp?.destroy();
});

const skipUnless = () => {
  if (!rp) console.warn("[read-replicas] skipped: no Debian PostgreSQL binaries with pg_basebackup under /usr/lib/postgresql (apt-get install postgresql)");
  return !rp;
};

describe("read replicas", () => {
  it("sends lag-tolerant reads to the replica and a user's reads after their own write to the primary", async (ctx) => {
    if (skipUnless()) return ctx.skip();
    const [a, b] = [await seedMovie(ts.orm, "Replicated A"), await seedMovie(ts.orm, "Replicated B")];
    await rp!.caughtUp();
    await rp!.replicaQuery("select pg_wal_replay_pause()");
    // Written on the primary after the pause: the replica never sees it while paused.
    const c = await seedMovie(ts.orm, "Primary-only C");
    try {
      await whilePaused(a, b, c);
    } finally {
      await rp!.replicaQuery("select pg_wal_replay_resume()");
    }
    await rp!.caughtUp();
    const catalog = createClient(CatalogService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
    expect((await catalog.getMovie({ lookup: { case: "id", value: c } })).movie?.id).toBe(c);
  });

  async function whilePaused(a: string, b: string, c: string) {
    const catalog = createClient(CatalogService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
    const recs = createClient(RecommendationService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
    const [alice, bob] = [await createTestUser(ts.deps, { prefix: "ryw" }), await createTestUser(ts.deps, { prefix: "ryw" })];

    // Catalogue: the replica's snapshot.
    expect((await catalog.getMovie({ lookup: { case: "id", value: a } })).movie?.id).toBe(a);
    const missing = await catalog.getMovie({ lookup: { case: "id", value: c } }).catch((e: unknown) => ConnectError.from(e));
    expect(missing).toBeInstanceOf(ConnectError);
    expect((missing as ConnectError).code).toBe(Code.NotFound);

    // Read-your-writes: Alice likes A; her own reads come from the primary at once.
    await recs.recordInteraction({ movieId: a, type: InteractionType.LIKE }, { headers: alice.headers });
    const listed = await recs.listInteractions({}, { headers: alice.headers });
    expect(listed.interactions.map((i) => i.movieId)).toEqual([a]);
    const aliceList = (await recs.getRecommendations({ limit: 10 }, { headers: alice.headers })).recommendations.map((r) => r.movie?.id);
    expect(aliceList).toContain(c); // only the primary has C
    expect(aliceList).not.toContain(a); // she liked it: seen
    // Bob wrote nothing: his served list is the replica's (A and B, no C).
    const bobList = (await recs.getRecommendations({ limit: 10 }, { headers: bob.headers })).recommendations.map((r) => r.movie?.id);
    expect(bobList).toEqual(expect.arrayContaining([a, b]));
    expect(bobList).not.toContain(c);
    // And the replica's own view: the API's connections are there, by the application_name of the replica URL.
    const sessions = await rp!.replicaQuery<{ n: number }>("select count(*)::int as n from pg_stat_activity where application_name = 'movierec-replica'");
    expect(sessions[0].n).toBeGreaterThan(0);

    // Regression: a staff edit read back at once was loaded from the lagging replica on the cache miss that follows
    // the invalidation, and the old title was cached under the new generation until its TTL (10 min). After an
    // invalidation, misses load from the primary for DATABASE_READ_YOUR_WRITES_MS.
    const staff = await createTestUser(ts.deps, { prefix: "ryw", staff: true });
    expect((await catalog.getMovie({ lookup: { case: "id", value: b } })).movie?.title).toBe("Replicated B");
    await catalog.updateMovie({ movie: { id: b, title: "Replicated B, edited" }, updateMask: { paths: ["title"] } }, { headers: staff.headers });
    expect((await catalog.getMovie({ lookup: { case: "id", value: b } })).movie?.title).toBe("Replicated B, edited");
    expect((await catalog.getMovie({ lookup: { case: "id", value: b } })).movie?.title).toBe("Replicated B, edited");
  }

  it("falls back to the primary when the replica is down", async (ctx) => {
    if (skipUnless()) return ctx.skip();
    const catalog = createClient(CatalogService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
    const recs = createClient(RecommendationService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
    const d = await seedMovie(ts.orm, "Read while the replica is down");
    await rp!.caughtUp();
    await rp!.stopReplica();
    expect((await catalog.getMovie({ lookup: { case: "id", value: d } })).movie?.id).toBe(d);
    expect((await recs.getSimilarMovies({ movieId: d })).movies).toBeDefined();
    const carol = await createTestUser(ts.deps, { prefix: "ryw" });
    expect((await recs.getRecommendations({ limit: 5 }, { headers: carol.headers })).recommendations.length).toBeGreaterThan(0);
    // A staff report (raw SQL on the replica's pool) too.
    const staff = await createTestUser(ts.deps, { prefix: "ryw", staff: true });
    const analytics = createClient(AnalyticsService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
    const today = new Date().toISOString().slice(0, 10);
    expect((await analytics.getTopMovies({ startDate: today, endDate: today, by: TopMoviesMetric.VIEWS }, { headers: staff.headers })).movies).toEqual([]);
  });
});
