/**
 * Experiments end to end (issue 14, items 3 and 4), on a database of this file's own (a running experiment changes
 * what GetRecommendations serves to everyone, so other files must not see it):
 * - users served through the real GetRecommendations land in their deterministic variant (the same on a second
 *   server, nothing stored per user), in proportions matching the shares, and their impressions name the variant;
 * - an A/A experiment over simulated click traffic reports no significant difference; an A/B one whose second
 *   variant truly converts better reports the right sign and p < 0.05 at the planned sample size, and warns below it;
 * - one running experiment per surface; stopping promotes the variant as the surface's default;
 * - every staff change writes exactly one audit row, and a change that fails (rolled back) writes none.
 * Click volume is simulated at the data layer (a seeded generator writes impressions and clicks on a day of their own);
 * bucketing and impression recording go through the real server.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ExperimentService, ExperimentStatus, type Experiment } from "../../gen/movierec/recommendation/v1/experiment_service_pb.js";
import { Algorithm } from "../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { plannedSamplePerArm, variantFor } from "../../src/modules/evaluation/index.ts";
import { createAccessTokens } from "../../src/modules/user/access-tokens.ts";
import { recordInteraction } from "../../src/modules/recommendation/interactions.ts";
import { ModelStore } from "../../src/modules/recommendation/model-store.ts";
import { trainAndPublish } from "../../src/modules/recommendation/scoring.ts";
import { migrateUp } from "../../src/platform/migrations.ts";
import { openOrm } from "../../src/platform/orm.ts";
import { ensurePartitions } from "../../src/platform/partitions.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";
import { seedMovie, seedUser } from "../recommendation/fixtures.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { seededRandom as seeded } from "../../src/platform/seeded-random.ts";

let db: TestDatabase;
let ts: TestServer;
let experiments: Client<typeof ExperimentService>;
let recs: Client<typeof RecommendationService>;
let staff: TestUser;
let movies: string[];

beforeAll(async () => {
  db = await createTestDatabase("movierec_exp", inject("adminDatabaseUrl"));
  const orm = await openOrm(db.url);
  try {
    await migrateUp(orm);
    await ensurePartitions(orm, { now: new Date(), monthsAhead: 1 });
  } finally {
    await orm.close();
  }
  ts = await startTestServer({ env: { DATABASE_URL: db.url, REDIS_PREFIX: `${inject("redisPrefix")}ex`, IMPRESSION_FLUSH_MS: "50" } });
  const transport = createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" });
  experiments = createClient(ExperimentService, transport);
  recs = createClient(RecommendationService, transport);
  staff = await createTestUser(ts.deps, { staff: true });
  movies = [];
  for (let i = 0; i < 6; i++) movies.push(await seedMovie(ts.orm));
}, 300_000);

afterAll(async () => {
  await ts?.close();
  await db?.drop();
});

type Row = Record<string, unknown>;
const q = <T = Row>(sql: string, params: unknown[] = []) => ts.orm.em.fork().execute<T[]>(sql, params);
const asStaff = () => ({ headers: staff.headers });
const pgArray = (xs: readonly (string | number | boolean)[]) => `{${xs.join(",")}}`;
async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}
async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return ConnectError.from(e).code;
  }
}
const auditRows = (id: string) => q<{ action: string; actor_user_id: string | null }>("select action, user_id::text as actor_user_id from audit_log where table_name = 'experiments' and record_id = ? order by id", [id]);

/**
 * `n` signed-in users made in bulk (registration hashes a password, too slow for hundreds): rows in users and
 * user_sessions, tokens signed with the server's key, and a stored hybrid list of the test movies for each.
 */
async function bulkUsers(n: number, tag: string): Promise<{ userId: string; headers: Record<string, string> }[]> {
  const users = await q<{ id: string }>(
    "insert into users (username, email, password) select ? || i, ? || i || '@example.test', 'x' from generate_series(1, ?) i returning id::text as id",
    [`${tag}_`, `${tag}_`, n],
  );
  const ids = users.map((u) => u.id);
  const sessions = await q<{ id: string; user_id: string }>(
    "insert into user_sessions (user_id, expires_at) select u, now() + interval '1 day' from unnest(?::bigint[]) u returning id::text as id, user_id::text as user_id",
    [pgArray(ids)],
  );
  await q(
    `insert into user_recommendation_lists (user_id, algorithm, movie_ids, scores)
     select u, 'hybrid', ?::bigint[], array(select (1.0 / k)::real from generate_series(1, ?::int) k) from unnest(?::bigint[]) u`,
    [pgArray(movies), movies.length, pgArray(ids)],
  );
  const auth = ts.deps.config.auth;
  const tokens = createAccessTokens({ secret: auth.jwtSecret, keyId: auth.jwtKeyId, ttlSeconds: 3600 });
  return Promise.all(
    sessions.map(async (s) => ({ userId: s.user_id, headers: { authorization: `Bearer ${(await tokens.sign({ userId: s.user_id, sessionId: s.id, isStaff: false })).token}` } })),
  );
}

/** Serves every user once through GetRecommendations (no algorithm), a few calls at a time. */
async function serve(client: Client<typeof RecommendationService>, users: { userId: string; headers: Record<string, string> }[], tag: string) {
  for (let i = 0; i < users.length; i += 16) {
    await Promise.all(users.slice(i, i + 16).map((u) => client.getRecommendations({ limit: 3 }, { headers: { ...u.headers, "x-request-id": `${tag}-${u.userId}` } })));
  }
}

/**
 * Simulated traffic at the data layer: `n` impressions per variant on `day`, each clicked with the variant's true
 * rate and converted with a fixed 2%, from a seeded generator (the same counts on every run).
 */
async function simulate(exp: Experiment, day: string, perVariant: Record<string, { n: number; ctr: number }>, seed: number) {
  const rand = seeded(seed);
  const keys: string[] = [];
  const variant: string[] = [];
  const clicked: boolean[] = [];
  const converted: boolean[] = [];
  for (const [name, { n, ctr }] of Object.entries(perVariant)) {
    for (let i = 0; i < n; i++) {
      keys.push(`sim:${exp.id}:${name}:${seed}:${i}`);
      variant.push(name);
      clicked.push(rand() < ctr);
      converted.push(rand() < 0.02);
    }
  }
  await q(
    `insert into recommendation_impressions (request_key, movie_id, surface, algorithm, experiment_id, variant, position, shown_at, clicked_at, converted_at, conversion_type)
     select k, ?::bigint, 'recommendations', 'hybrid', ?::bigint, v, 0, (?::date + time '12:00') at time zone 'UTC',
            case when c then (?::date + time '12:01') at time zone 'UTC' end, case when cv then (?::date + time '12:05') at time zone 'UTC' end, case when cv then 'like' end
       from unnest(?::text[], ?::text[], ?::boolean[], ?::boolean[]) as t(k, v, c, cv)`,
    [movies[0], exp.id, day, day, day, pgArray(keys), pgArray(variant), pgArray(clicked), pgArray(converted)],
  );
}

const hybrid = (name: string, share: number) => ({ name, algorithm: Algorithm.HYBRID, share });

describe("experiments", () => {
  let aa: Experiment;

  it("creates a draft (staff only, one audit row each), refusing shares that do not sum to 1 and names taken", async () => {
    const user = await createTestUser(ts.deps);
    expect(await codeOf(experiments.listExperiments({}, { headers: user.headers }))).toBe(Code.PermissionDenied);

    const created = await experiments.createExperiment({ name: "aa", variants: [hybrid("a", 0.5), hybrid("b", 0.5)], salt: "aa-salt", minSamplePerVariant: 4000 }, asStaff());
    aa = created.experiment!;
    expect(aa).toMatchObject({ name: "aa", status: ExperimentStatus.DRAFT, salt: "aa-salt", minSamplePerVariant: 4000 });
    expect(aa.variants.map((v) => [v.name, v.share])).toEqual([["a", 0.5], ["b", 0.5]]);
    expect(await auditRows(aa.id)).toEqual([{ action: "experiment.create", actor_user_id: staff.userId }]);

    expect(await codeOf(experiments.createExperiment({ name: "bad", variants: [hybrid("a", 0.5), hybrid("b", 0.4)] }, asStaff()))).toBe(Code.InvalidArgument);
    const before = await q<{ n: number }>("select count(*)::int as n from audit_log where action = 'experiment.create'");
    // A taken name fails inside the transaction: the change and its audit row roll back together.
    expect(await codeOf(experiments.createExperiment({ name: "aa", variants: [hybrid("a", 0.5), hybrid("b", 0.5)] }, asStaff()))).toBe(Code.AlreadyExists);
    expect(await q("select count(*)::int as n from audit_log where action = 'experiment.create'")).toEqual(before);
    expect((await experiments.getExperiment({ experimentId: aa.id }, asStaff())).experiment!.name).toBe("aa");
  });

  it("buckets users served through GetRecommendations deterministically, in the shares, sticky across servers", async () => {
    const started = await experiments.startExperiment({ experimentId: aa.id }, asStaff());
    expect(started.experiment!.status).toBe(ExperimentStatus.RUNNING);
    expect((await auditRows(aa.id)).map((r) => r.action)).toEqual(["experiment.create", "experiment.start"]);

    const users = await bulkUsers(300, "aa");
    await serve(recs, users, "aa");
    const rows = await until(
      () => q<{ user_id: string; variant: string; experiment_id: string; n: number }>(
        "select user_id::text as user_id, min(variant) as variant, min(experiment_id)::text as experiment_id, count(*)::int as n from recommendation_impressions where user_id = any(?::bigint[]) group by user_id",
        [pgArray(users.map((u) => u.userId))],
      ),
      (r) => r.length === users.length && r.every((x) => x.n === 3),
    );
    expect(rows).toHaveLength(300);
    const expected = (userId: string) => variantFor(userId, "aa-salt", [{ name: "a", shareBp: 5000 }, { name: "b", shareBp: 5000 }]).name;
    for (const r of rows) expect(r, r.user_id).toMatchObject({ variant: expected(r.user_id), experiment_id: aa.id, n: 3 });
    const inA = rows.filter((r) => r.variant === "a").length / rows.length;
    expect(Math.abs(inA - 0.5)).toBeLessThan(0.12); // 4 standard deviations at n = 300

    // Another server (its own modules and caches, nothing shared but the database) puts the same users in the same variants.
    const other = await startTestServer({ env: { DATABASE_URL: db.url, REDIS_PREFIX: `${inject("redisPrefix")}ex2`, IMPRESSION_FLUSH_MS: "50" } });
    try {
      const some = users.slice(0, 30);
      await serve(createClient(RecommendationService, createConnectTransport({ baseUrl: other.baseUrl, httpVersion: "1.1" })), some, "aa-other");
      const again = await until(
        () => q<{ user_id: string; variant: string }>("select user_id::text as user_id, variant from recommendation_impressions where request_key like 'recommendations:%:aa-other-%' and position = 0"),
        (r) => r.length === some.length,
      );
      expect(again).toHaveLength(30);
      for (const r of again) expect(r.variant, r.user_id).toBe(expected(r.user_id));
    } finally {
      await other.close();
    }
  });

  it("allows one running experiment per surface: a second start is FAILED_PRECONDITION and writes no audit row", async () => {
    const second = (await experiments.createExperiment({ name: "second", variants: [hybrid("x", 0.5), hybrid("y", 0.5)] }, asStaff())).experiment!;
    expect(await codeOf(experiments.startExperiment({ experimentId: second.id }, asStaff()))).toBe(Code.FailedPrecondition);
    expect((await auditRows(second.id)).map((r) => r.action)).toEqual(["experiment.create"]);
    expect((await experiments.getExperiment({ experimentId: second.id }, asStaff())).experiment!.status).toBe(ExperimentStatus.DRAFT);
    // Stopping a draft is refused too.
    expect(await codeOf(experiments.stopExperiment({ experimentId: second.id }, asStaff()))).toBe(Code.FailedPrecondition);
  });

  it("A/A over simulated traffic: no significant difference, intervals overlapping zero", async () => {
    await simulate(aa, "2001-04-01", { a: { n: 2000, ctr: 0.05 }, b: { n: 2000, ctr: 0.05 } }, 11);
    await simulate(aa, "2001-04-02", { a: { n: 2000, ctr: 0.05 }, b: { n: 2000, ctr: 0.05 } }, 12);
    const r = await experiments.getExperimentReport({ experimentId: aa.id, startDate: "2001-04-01", endDate: "2001-04-02" }, asStaff());
    expect(r.arms.map((a) => [a.arm, a.impressions])).toEqual([["a", 4000n], ["b", 4000n]]);
    expect(r.days.map((d) => [d.date, d.stats!.arm, d.stats!.impressions])).toEqual([
      ["2001-04-01", "a", 2000n], ["2001-04-01", "b", 2000n], ["2001-04-02", "a", 2000n], ["2001-04-02", "b", 2000n],
    ]);
    for (const a of r.arms) {
      expect(a.ctr!.value).toBeCloseTo(Number(a.clicks) / 4000, 10);
      expect(a.ctr!.lower).toBeLessThan(0.05);
      expect(a.ctr!.upper).toBeGreaterThan(0.05);
      expect(a.conversionRate!.value).toBeCloseTo(Number(a.conversions) / 4000, 10);
    }
    expect(r.sampleTooSmall).toBe(false);
    expect(r.warning).toBe("");
    expect(await codeOf(experiments.getExperimentReport({ experimentId: aa.id, startDate: "2001-02-30" }, asStaff()))).toBe(Code.InvalidArgument);
    expect(await codeOf(experiments.getExperimentReport({ experimentId: aa.id, startDate: "2001-04-03", endDate: "2001-04-01" }, asStaff()))).toBe(Code.InvalidArgument);
    const [c] = r.comparisons;
    expect(c).toMatchObject({ arm: "b", control: "a", ctrSignificant: false });
    expect(c!.ctrPValue).toBeGreaterThan(0.05);
    expect(c!.ctrDifferenceLower).toBeLessThan(0);
    expect(c!.ctrDifferenceUpper).toBeGreaterThan(0);
  });

  it("stopping promotes the chosen variant as the surface's default (one audit row), and users are then served the default", async () => {
    const stopped = (await experiments.stopExperiment({ experimentId: aa.id, promoteVariant: "b" }, asStaff())).experiment!;
    expect(stopped).toMatchObject({ status: ExperimentStatus.STOPPED, promotedVariant: "b" });
    expect(stopped.stoppedAt).toBeDefined();
    expect(await q("select algorithm, variant, experiment_id::text as experiment_id from serving_defaults where surface = 'recommendations'")).toEqual([
      { algorithm: "hybrid", variant: "b", experiment_id: aa.id },
    ]);
    expect((await auditRows(aa.id)).map((r) => r.action)).toEqual(["experiment.create", "experiment.start", "experiment.stop"]);
    expect(await codeOf(experiments.startExperiment({ experimentId: aa.id }, asStaff()))).toBe(Code.FailedPrecondition); // never runs again

    const [user] = await bulkUsers(1, "after");
    await recs.getRecommendations({}, { headers: { ...user!.headers, "x-request-id": "after-stop" } });
    const rows = await until(() => q("select algorithm, experiment_id, variant from recommendation_impressions where user_id = ?", [user!.userId]), (r) => r.length > 0);
    expect(rows[0]).toEqual({ algorithm: "hybrid", experiment_id: null, variant: null });
  });

  it("A/B: the variant with the higher true click rate wins with the right sign and p < 0.05 at the planned sample; below it the report warns", async () => {
    const planned = plannedSamplePerArm(0.05, 0.065);
    // The treatment blends differently: trending weighs 100 times the collaborative part, so its users' lists follow
    // the trend, scored on read.
    const ab = (await experiments.createExperiment(
      { name: "ab", variants: [hybrid("control", 0.5), { name: "treatment", algorithm: Algorithm.HYBRID, share: 0.5, hybrid: { content: 0, trending: 100 } }], minSamplePerVariant: planned },
      asStaff(),
    )).experiment!;
    expect(ab.variants[1]!.hybrid).toEqual(expect.objectContaining({ content: 0, trending: 100 }));
    await experiments.startExperiment({ experimentId: ab.id }, asStaff());

    // A published model where the two blends disagree for people who liked movies[0]: four people liked movies[0] and
    // movies[1] together (the trained blend, collaborative first, ranks movies[1] first for them), while movies[2..5]
    // were liked by 5..8 people each (the trend ranks movies[5] first).
    const like = async (userId: string, m: string) => recordInteraction(ts.orm.em.fork(), { userId, movieId: m, type: "like" });
    for (let j = 0; j < 4; j++) {
      const u = await seedUser(ts.orm);
      await like(u, movies[0]!);
      await like(u, movies[1]!);
    }
    for (let k = 2; k < movies.length; k++) for (let j = 0; j < k + 3; j++) await like(await seedUser(ts.orm), movies[k]!);
    await trainAndPublish(ts.orm, new ModelStore(ts.redis), { topN: 20, maxItems: 500 });
    const users = await bulkUsers(40, "ab");
    for (const u of users) await like(u.userId, movies[0]!);
    const lists = new Map<string, { movies: string[]; ids: string[] }>();
    for (const u of users) {
      const r = await recs.getRecommendations({ limit: 4 }, { headers: { ...u.headers, "x-request-id": `ab-${u.userId}` } });
      lists.set(u.userId, { movies: r.recommendations.map((x) => x.movie!.id), ids: r.recommendations.map((x) => x.id) });
    }
    const variantOf = (userId: string) => variantFor(userId, ab.salt, [{ name: "control", shareBp: 5000 }, { name: "treatment", shareBp: 5000 }]).name;
    const treated = users.filter((u) => variantOf(u.userId) === "treatment");
    expect(treated.length).toBeGreaterThan(5);
    for (const u of treated) {
      const l = lists.get(u.userId)!;
      expect(l.movies, u.userId).toEqual([movies[5], movies[4], movies[3], movies[2]]);
      expect(l.ids.every((id) => id !== ""), "items carry the stored row id, for RecordRecommendationClick").toBe(true);
    }
    for (const u of users) expect(lists.get(u.userId)!.movies).not.toContain(movies[0]);
    for (const u of users.filter((x) => variantOf(x.userId) === "control")) expect(lists.get(u.userId)!.movies[0], u.userId).toBe(movies[1]);
    const served = await until(
      () => q<{ user_id: string; variant: string }>("select user_id::text as user_id, variant from recommendation_impressions where experiment_id = ? and position = 0 and request_key like 'recommendations:%'", [ab.id]),
      (r) => r.length === users.length,
    );
    expect(served).toHaveLength(users.length);
    for (const r of served) expect(r.variant).toBe(variantOf(r.user_id));
    // Half the planned sample first: the report must not decide.
    await simulate(ab, "2001-05-01", { control: { n: Math.ceil(planned / 2), ctr: 0.05 }, treatment: { n: Math.ceil(planned / 2), ctr: 0.065 } }, 21);
    const early = await experiments.getExperimentReport({ experimentId: ab.id, startDate: "2001-05-01", endDate: "2001-05-01" }, asStaff());
    expect(early.sampleTooSmall).toBe(true);
    expect(early.warning).toMatch(new RegExp(`control: ${Math.ceil(planned / 2)} of ${planned} planned impressions`));
    expect(early.comparisons[0]!.ctrSignificant).toBe(false);

    await simulate(ab, "2001-05-02", { control: { n: planned - Math.ceil(planned / 2), ctr: 0.05 }, treatment: { n: planned - Math.ceil(planned / 2), ctr: 0.065 } }, 22);
    const r = await experiments.getExperimentReport({ experimentId: ab.id, startDate: "2001-05-01", endDate: "2001-05-02" }, asStaff());
    expect(r.arms.map((a) => [a.arm, Number(a.impressions)])).toEqual([["control", planned], ["treatment", planned]]);
    expect(r.sampleTooSmall).toBe(false);
    const [c] = r.comparisons;
    expect(c).toMatchObject({ arm: "treatment", control: "control", ctrSignificant: true });
    expect(c!.ctrDifference).toBeGreaterThan(0);
    expect(c!.ctrDifferenceLower).toBeGreaterThan(0);
    expect(c!.ctrPValue).toBeLessThan(0.05);
    // Conversions were simulated at the same 2% in both: no difference there.
    expect(c!.conversionPValue).toBeGreaterThan(0.05);

    await experiments.stopExperiment({ experimentId: ab.id }, asStaff()); // no promotion: the default stays
    expect(await q("select variant from serving_defaults")).toEqual([{ variant: "b" }]);
  });

  it("two concurrent starts on one surface: exactly one runs, and the loser's audit row is rolled back with it", async () => {
    const x = (await experiments.createExperiment({ name: "race-x", variants: [hybrid("a", 0.5), hybrid("b", 0.5)] }, asStaff())).experiment!;
    const y = (await experiments.createExperiment({ name: "race-y", variants: [hybrid("a", 0.5), hybrid("b", 0.5)] }, asStaff())).experiment!;
    const codes = await Promise.all([codeOf(experiments.startExperiment({ experimentId: x.id }, asStaff())), codeOf(experiments.startExperiment({ experimentId: y.id }, asStaff()))]);
    expect([...codes].sort()).toEqual([Code.FailedPrecondition, "ok"].sort());
    const starts = await q<{ n: number }>("select count(*)::int as n from audit_log where action = 'experiment.start' and record_id = any(?::text[])", [pgArray([x.id, y.id])]);
    expect(starts[0]!.n).toBe(1);
    const running = await experiments.listExperiments({ status: ExperimentStatus.RUNNING }, asStaff());
    expect(running.experiments.map((e) => e.id)).toEqual([codes[0] === "ok" ? x.id : y.id]);
  });

  it("lists experiments newest first with page tokens", async () => {
    const seen: string[] = [];
    let token = "";
    do {
      const page = await experiments.listExperiments({ pageSize: 2, pageToken: token }, asStaff());
      expect(page.experiments.length).toBeLessThanOrEqual(2);
      seen.push(...page.experiments.map((e) => e.name));
      token = page.nextPageToken;
    } while (token);
    expect(seen).toEqual(["race-y", "race-x", "ab", "second", "aa"]);
    expect(await codeOf(experiments.listExperiments({ pageToken: "garbage" }, asStaff()))).toBe(Code.InvalidArgument);
  });
});
