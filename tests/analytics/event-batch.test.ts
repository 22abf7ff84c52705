/**
 * TrackEventBatch: the unary ingestion a browser uses (fetch cannot stream a request body), called here with the
 * browser's own client (Connect-Web over fetch). Same path as TrackEvents: invalid events rejected by index, the
 * valid ones stored, a repeated batch key stores nothing twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AnalyticsService } from "../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { createTestUser } from "../auth/test-users.ts";
import type { TestServer } from "../support/server.ts";
import { insertMovie, sql, startAnalyticsServer, uniqueSession, viewEvent } from "./helpers.ts";

let ts: TestServer;
let movieId: string;
beforeAll(async () => {
  ts = await startAnalyticsServer();
  movieId = await insertMovie(ts.orm);
});
afterAll(async () => ts?.close());

const rowsOf = (session: string) =>
  sql<{ n: string }>(ts.orm, "select count(*)::text as n from user_activity_logs where session_id = ?", [session]).then((r) => Number(r[0]!.n));

describe("TrackEventBatch from a browser client", () => {
  it("stores the valid events, rejects the invalid ones by position, and never stores a batch twice", async () => {
    const user = await createTestUser(ts.deps);
    const client = createClient(AnalyticsService, createConnectTransport({ baseUrl: ts.baseUrl }));
    const session = uniqueSession("batch");
    const events = [viewEvent(session, { movieId }), viewEvent("", { movieId }), viewEvent(session, { movieId }), viewEvent(session, { movieId: "9999999999999999999999" })];
    const batchKey = `b-${session}`;
    const first = await client.trackEventBatch({ batchKey, events }, { headers: user.headers });
    expect(first.acceptedCount).toBe(2);
    expect(first.rejected.map((r) => r.index)).toEqual([1, 3]);
    expect(first.rejected[0]!.reason).toMatch(/session_id/);
    expect(first.duplicateBatch).toBe(false);
    expect(await rowsOf(session)).toBe(2);

    const again = await client.trackEventBatch({ batchKey, events }, { headers: user.headers });
    expect(again).toMatchObject({ acceptedCount: 2, duplicateBatch: true });
    expect(await rowsOf(session)).toBe(2);
  });

  it("refuses an empty batch and anonymous callers", async () => {
    const user = await createTestUser(ts.deps);
    const client = createClient(AnalyticsService, createConnectTransport({ baseUrl: ts.baseUrl }));
    await expect(client.trackEventBatch({ events: [] }, { headers: user.headers })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(client.trackEventBatch({ events: [viewEvent(uniqueSession())] })).rejects.toMatchObject({ code: Code.Unauthenticated });
  });
});
