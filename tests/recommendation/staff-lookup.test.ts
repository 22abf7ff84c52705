/**
 * Issue 15 gap: the console's user lookup shows a user's interaction history next to their recommendations and
 * reasons. ListInteractions and GetRecommendations take an optional user_id that only staff may set; everyone else
 * naming another user is PERMISSION_DENIED. Real server, Connect (JSON) and @grpc/grpc-js callers.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { InteractionType } from "../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";
import { grpcClient, grpcUnary } from "../support/grpc-client.ts";
import { seedMovie } from "./fixtures.ts";

let ts: TestServer;
let recs: Client<typeof RecommendationService>;
let staff: TestUser;
let member: TestUser;
let other: TestUser;
const movies: string[] = [];

beforeAll(async () => {
  ts = await startTestServer({ env: { IMPRESSION_FLUSH_MS: "50" } });
  recs = createClient(RecommendationService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
  staff = await createTestUser(ts.deps, { staff: true, prefix: "lookstaff" });
  member = await createTestUser(ts.deps, { prefix: "lookmember" });
  other = await createTestUser(ts.deps, { prefix: "lookother" });
  for (let i = 0; i < 5; i++) movies.push(await seedMovie(ts.orm));
  // Oldest first, so the newest-first history is movies[4] … movies[0].
  for (const m of movies) await recs.recordInteraction({ movieId: m, type: InteractionType.LIKE }, { headers: member.headers });
  // Movies only someone else liked: the member's (cold-start) list has something to offer besides their own likes.
  for (let i = 0; i < 5; i++) await recs.recordInteraction({ movieId: await seedMovie(ts.orm), type: InteractionType.LIKE }, { headers: other.headers });
});
afterAll(async () => ts?.close());

const codeOf = (e: unknown) => ConnectError.from(e).code;
const impressionsOf = async (userId: string) =>
  Number((await ts.orm.em.fork().execute<{ n: string }[]>("select count(*) as n from recommendation_impressions where user_id = ?::bigint", [userId]))[0]!.n);

describe("staff reads another user's interactions", () => {
  it("pages through the member's history with the API's page tokens, newest first", async () => {
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await recs.listInteractions({ userId: member.userId, pageSize: 2, pageToken }, { headers: staff.headers });
      expect(page.interactions.every((i) => i.userId === member.userId)).toBe(true);
      seen.push(...page.interactions.map((i) => i.movieId));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken !== "" && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...movies].reverse());
  });

  it("a member naming another user is PERMISSION_DENIED, naming themselves is their own list", async () => {
    const err = await recs.listInteractions({ userId: member.userId }, { headers: other.headers }).catch((e: unknown) => e);
    expect(codeOf(err)).toBe(Code.PermissionDenied);
    expect(ConnectError.from(err).rawMessage).toBe("only staff may read another user's interactions");
    const own = await recs.listInteractions({ userId: member.userId, pageSize: 10 }, { headers: member.headers });
    expect(own.interactions).toHaveLength(5);
  });

  it("an unknown user is NOT_FOUND", async () => {
    const err = await recs.listInteractions({ userId: "999999999999" }, { headers: staff.headers }).catch((e: unknown) => e);
    expect(codeOf(err)).toBe(Code.NotFound);
  });

  it("@grpc/grpc-js: the same rules over gRPC", async () => {
    const client = grpcClient(ts.grpcAddress);
    const md = (u: TestUser) => {
      const m = new grpc.Metadata();
      m.set("authorization", u.headers.authorization!);
      return m;
    };
    const page = await grpcUnary(client, RecommendationService.method.listInteractions, { userId: member.userId, pageSize: 50 }, md(staff));
    expect(page.interactions.map((i) => i.movieId)).toEqual([...movies].reverse());
    const err = (await grpcUnary(client, RecommendationService.method.listInteractions, { userId: member.userId }, md(other)).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
  });
});

describe("staff reads another user's recommendations", () => {
  it("answers the member's list with reasons, and is not counted as the member's impression", async () => {
    const staffView = await recs.getRecommendations({ userId: member.userId, limit: 10 }, { headers: staff.headers });
    expect(staffView.recommendations.length).toBeGreaterThan(0);
    expect(staffView.recommendations.every((r) => r.reason !== "")).toBe(true);
    // Movies the member already liked are left out of *their* list, so the list is theirs, not the staff member's.
    expect(staffView.recommendations.map((r) => r.movie?.id).filter((id) => movies.includes(id!))).toEqual([]);
    await new Promise((r) => setTimeout(r, 400)); // several impression flush intervals
    expect(await impressionsOf(member.userId)).toBe(0);
    // The member's own read is an impression (proves the recorder runs in this server).
    const own = await recs.getRecommendations({ limit: 10 }, { headers: member.headers });
    for (let i = 0; i < 100 && (await impressionsOf(member.userId)) === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await impressionsOf(member.userId)).toBe(own.recommendations.length);
    expect(own.recommendations.map((r) => r.movie?.id)).toEqual(staffView.recommendations.map((r) => r.movie?.id));
  });

  it("a member naming another user is PERMISSION_DENIED; an unknown user is NOT_FOUND", async () => {
    const denied = await recs.getRecommendations({ userId: member.userId }, { headers: other.headers }).catch((e: unknown) => e);
    expect(codeOf(denied)).toBe(Code.PermissionDenied);
    expect(ConnectError.from(denied).rawMessage).toBe("only staff may read another user's recommendations");
    const unknown = await recs.getRecommendations({ userId: "999999999999" }, { headers: staff.headers }).catch((e: unknown) => e);
    expect(codeOf(unknown)).toBe(Code.NotFound);
  });
});
