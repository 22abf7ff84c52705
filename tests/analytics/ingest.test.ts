/**
 * TrackEvent / TrackEvents through the real server over gRPC: rows land in user_activity_logs with the caller,
 * anonymised address and user agent; invalid events are rejected by index; keyed batches are never stored twice,
 * and an interrupted stream stores exactly what was acknowledged.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AnalyticsService, type TrackEventsRequest } from "../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { ActionType, Source } from "../../gen/movierec/analytics/v1/analytics_pb.js";
import { createTestUser } from "../auth/test-users.ts";
import type { TestServer } from "../support/server.ts";
import { BATCH_SIZE } from "../../src/modules/analytics/event-ingest.ts";
import { SERVICE_HEADERS, at, insertMovie, sql, startAnalyticsServer, uniqueSession, viewEvent } from "./helpers.ts";

let ts: TestServer;
let client: ReturnType<typeof createClient<typeof AnalyticsService>>;
let movieId: string;

beforeAll(async () => {
  ts = await startAnalyticsServer();
  client = createClient(AnalyticsService, createGrpcTransport({ baseUrl: ts.baseUrl }));
  movieId = await insertMovie(ts.orm);
});
afterAll(async () => {
  await ts?.close();
});

const rowsOf = (session: string) =>
  sql<{ n: string }>(ts.orm, "select count(*)::text as n from user_activity_logs where session_id = ?", [session]).then((r) => Number(r[0]!.n));

async function* stream(session: string, count: number, batchKey = "", extra?: (i: number) => Partial<Pick<TrackEventsRequest, "batchKey" | "event">> | undefined) {
  for (let i = 0; i < count; i++) {
    yield { batchKey: i === 0 ? batchKey : "", event: viewEvent(session, { movieId }), ...extra?.(i) };
  }
}

describe("TrackEvent", () => {
  it("stores a signed-in user's event with the anonymised client address and user agent", async () => {
    const user = await createTestUser(ts.deps);
    const session = uniqueSession();
    await client.trackEvent(
      { event: viewEvent(session, { movieId, referer: "https://ref.example/x", metadata: { query: "matrix", n: 2 } }) },
      { headers: { ...user.headers, "user-agent": "ua-test/1.0" } },
    );
    const rows = await sql<Record<string, unknown>>(
      ts.orm,
      `select user_id::text as user_id, movie_id::text as movie_id, host(ip_address) as ip, user_agent, referer, source, action_type, metadata,
              tableoid::regclass::text as part from user_activity_logs where session_id = ?`,
      [session],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      user_id: user.userId, movie_id: movieId, ip: "127.0.0.0", referer: "https://ref.example/x", source: "web", action_type: "movie_view",
      metadata: { query: "matrix", n: 2 },
    });
    expect(rows[0]!.user_agent).toMatch(/^ua-test\/1\.0/);
    const now = new Date();
    expect(rows[0]!.part).toBe(`user_activity_logs_y${now.getUTCFullYear()}m${String(now.getUTCMonth() + 1).padStart(2, "0")}`);
  });

  it("takes a forwarding service's visitor address and user agent, with no user", async () => {
    const session = uniqueSession();
    const day = 86_400_000;
    await client.trackEvent(
      { event: viewEvent(session, { occurredAt: at(new Date(Date.now() - 2 * day)) }) },
      { headers: { ...SERVICE_HEADERS, "x-client-ip": "203.0.113.77", "x-client-user-agent": "VisitorBrowser/2" } },
    );
    const rows = await sql<{ user_id: string | null; ip: string; user_agent: string; ts: Date }>(
      ts.orm,
      `select user_id, host(ip_address) as ip, user_agent, "timestamp" as ts from user_activity_logs where session_id = ?`,
      [session],
    );
    expect(rows).toMatchObject([{ user_id: null, ip: "203.0.113.0", user_agent: "VisitorBrowser/2" }]);
    expect(Math.abs(new Date(rows[0]!.ts).getTime() - (Date.now() - 2 * day))).toBeLessThan(60_000);
  });

  it("refuses an invalid event or an unknown movie with INVALID_ARGUMENT, and anonymous callers", async () => {
    const bad = await client.trackEvent({ event: viewEvent("", {}) }, { headers: SERVICE_HEADERS }).catch((e: unknown) => ConnectError.from(e));
    expect(bad).toBeInstanceOf(ConnectError);
    expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
    const unknown = await client
      .trackEvent({ event: viewEvent(uniqueSession(), { movieId: "999999999999" }) }, { headers: SERVICE_HEADERS })
      .catch((e: unknown) => ConnectError.from(e));
    expect((unknown as ConnectError).code).toBe(Code.InvalidArgument);
    expect((unknown as ConnectError).rawMessage).toMatch(/movie 999999999999 does not exist/);
    const anon = await client.trackEvent({ event: viewEvent(uniqueSession()) }).catch((e: unknown) => ConnectError.from(e));
    expect((anon as ConnectError).code).toBe(Code.Unauthenticated);
  });
});

describe("TrackEvents", () => {
  it("takes many events per stream message and reports rejections by event position", async () => {
    const session = uniqueSession();
    async function* batched() {
      // message 0: event + 2 more (positions 0, 1, 2); message 1: events only (3, 4, 5), position 4 invalid.
      yield { event: viewEvent(session, { movieId }), events: [viewEvent(session, { movieId }), viewEvent(session, { movieId })] };
      yield { events: [viewEvent(session, { movieId }), viewEvent(""), viewEvent(session, { movieId })] };
    }
    const res = await client.trackEvents(batched(), { headers: SERVICE_HEADERS });
    expect(res.acceptedCount).toBe(5);
    expect(res.rejected.map((r) => r.index)).toEqual([4]);
    expect(res.rejected[0]!.reason).toMatch(/^event\.session_id:/);
    expect(await rowsOf(session)).toBe(5);
  });

  it("keeps valid events and reports invalid ones by stream index", async () => {
    const session = uniqueSession();
    const res = await client.trackEvents(
      stream(session, 12, "", (i) =>
        i === 3 ? { event: viewEvent("") } :
        i === 5 ? { event: viewEvent(session, { actionType: ActionType.UNSPECIFIED }) } :
        i === 7 ? { event: viewEvent(session, { movieId: "888888888888" }) } :
        i === 9 ? { event: viewEvent(session, { source: Source.UNSPECIFIED, metadata: { big: "x".repeat(9000) } }) } :
        i === 10 ? { event: undefined } : undefined,
      ),
      { headers: SERVICE_HEADERS },
    );
    expect(res.acceptedCount).toBe(7);
    expect(res.rejected.map((r) => r.index)).toEqual([3, 5, 7, 9, 10]);
    expect(res.rejected[0]!.reason).toMatch(/^event\.session_id:/);
    expect(res.rejected[2]!.reason).toMatch(/movie 888888888888 does not exist/);
    expect(res.duplicateBatch).toBe(false);
    expect(await rowsOf(session)).toBe(7);
  });

  it("answers a retried batch from its first result without storing it again", async () => {
    const session = uniqueSession();
    const key = `k-${session}`;
    const count = BATCH_SIZE + 1500;
    const first = await client.trackEvents(stream(session, count, key, (i) => (i === 2 ? { event: viewEvent("") } : undefined)), {
      headers: SERVICE_HEADERS,
    });
    expect(first).toMatchObject({ acceptedCount: count - 1, duplicateBatch: false });
    const again = await client.trackEvents(stream(session, count, key), { headers: SERVICE_HEADERS });
    expect(again.duplicateBatch).toBe(true);
    expect(again.acceptedCount).toBe(count - 1);
    expect(again.rejected.map((r) => r.index)).toEqual([2]);
    expect(await rowsOf(session)).toBe(count - 1);
  });

  it("an interrupted stream stores exactly what was acknowledged, and its retry resumes without duplicates", async () => {
    const session = uniqueSession();
    const key = `k-${session}`;
    const total = BATCH_SIZE * 2 + 100;
    const abort = new AbortController();
    // Sends the first batch, then waits until it is durable (the batch row says so) and cuts the call.
    async function* interrupted() {
      for (let i = 0; i < BATCH_SIZE + 50; i++) yield { batchKey: i === 0 ? key : "", event: viewEvent(session, { movieId }) };
      // Waits for a durable first flush: a whole batch, or (on a loaded machine, where FLUSH_AFTER_MS cuts it short
      // and the rest waits for more events that never come) a partial one that has stopped growing.
      let seen = 0;
      let steadySince = Date.now();
      for (const until = Date.now() + 60_000; Date.now() < until; ) {
        const rows = await sql<{ processed_count: number }>(ts.orm, "select processed_count from analytics_ingest_batches where batch_key = ?", [key]);
        const n = rows[0]?.processed_count ?? 0;
        if (n >= BATCH_SIZE) break;
        if (n !== seen) [seen, steadySince] = [n, Date.now()];
        else if (n > 0 && Date.now() - steadySince > 1000) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      abort.abort();
      // Stay open: ending here would close the stream normally if the abort were slow to reach the transport.
      await new Promise((r) => setTimeout(r, 5000));
    }
    const err = await client.trackEvents(interrupted(), { headers: SERVICE_HEADERS, signal: abort.signal }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    await new Promise((r) => setTimeout(r, 300)); // let the server notice the cancellation
    const [progress] = await sql<{ processed_count: number; accepted_count: number; completed_at: Date | null }>(
      ts.orm,
      "select processed_count, accepted_count, completed_at from analytics_ingest_batches where batch_key = ?",
      [key],
    );
    expect(progress!.completed_at).toBeNull();
    // A batch is cut at BATCH_SIZE events or after FLUSH_AFTER_MS, so on a slow machine the durable count may not be a
    // whole batch; what matters is that it is what was stored, and that the retry completes it without duplicates.
    expect(progress!.processed_count).toBeGreaterThan(0);
    expect(progress!.processed_count).toBeLessThanOrEqual(BATCH_SIZE + 50);
    expect(await rowsOf(session)).toBe(progress!.accepted_count);

    const retry = await client.trackEvents(stream(session, total, key), { headers: SERVICE_HEADERS });
    expect(retry).toMatchObject({ acceptedCount: total, duplicateBatch: false });
    expect(await rowsOf(session)).toBe(total);
  }, 120_000);

  it("a stream failing midway tells in its trailers how many events are stored", async () => {
    const session = uniqueSession();
    const err = await client
      .trackEvents(
        stream(session, BATCH_SIZE + 10, `k-${session}`, (i) => (i === BATCH_SIZE + 5 ? { batchKey: "x".repeat(65) } : undefined)),
        { headers: SERVICE_HEADERS },
      )
      .catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    const stored = Number((err as ConnectError).metadata.get("x-accepted-count"));
    // Whole batches before the bad message are durable: BATCH_SIZE, or less when a slow sender hit FLUSH_AFTER_MS.
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThanOrEqual(BATCH_SIZE + 5);
    expect(await rowsOf(session)).toBe(stored);
  });
});
