/**
 * Regression tests for issue 11 rows 5–7 and issue 12 item 4: bad input anywhere is INVALID_ARGUMENT (or NOT_FOUND)
 * naming the field, never INTERNAL. Each case was INTERNAL (or silently accepted) before the schema-wide rules.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, toJsonString, type DescMethodUnary, type MessageInitShape } from "@bufbuild/protobuf";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { NotificationService } from "../../gen/movierec/notification/v1/notification_service_pb.js";
import { AnalyticsService } from "../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";

let ts: TestServer;
let user: TestUser;
let staff: TestUser;
let personId: string;
beforeAll(async () => {
  ts = await startTestServer();
  user = await createTestUser(ts.deps);
  staff = await createTestUser(ts.deps, { staff: true });
  const rows = (await ts.orm.em.fork().execute(
    "insert into persons (tmdb_id, name, known_for_department) values (floor(random() * 1e9)::int + 1000000000, 'Bad Input', 'Acting') returning id",
  )) as Array<{ id: string }>;
  personId = String(rows[0]!.id);
});
afterAll(async () => {
  await ts?.close();
});

const SVC = {
  user: "movierec.user.v1.UserService",
  catalog: "movierec.catalog.v1.CatalogService",
  rec: "movierec.recommendation.v1.RecommendationService",
  notif: "movierec.notification.v1.NotificationService",
  analytics: "movierec.analytics.v1.AnalyticsService",
};

/** A Connect JSON call as a browser would make it; `body` is sent verbatim when it is a string. */
async function call(path: string, body: unknown, who?: TestUser): Promise<{ status: number; code?: string; message?: string }> {
  const res = await fetch(`${ts.baseUrl}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(who?.headers ?? {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const json = (await res.json()) as { code?: string; message?: string };
  return { status: res.status, code: json.code, message: json.message };
}

/** The same, with the body built from a typed init so the test cannot misspell a field. */
function typed<M extends DescMethodUnary>(method: M, init: MessageInitShape<M["input"]>): [string, string] {
  return [`${method.parent.typeName}/${method.name}`, toJsonString(method.input, create(method.input, init))];
}

type Who = "anon" | "user" | "staff";
const as = (who: Who) => (who === "anon" ? undefined : who === "user" ? user : staff);

describe("NUL and malformed text in any string field (row 5)", () => {
  const U = UserService.method, R = RecommendationService.method, N = NotificationService.method, A = AnalyticsService.method, C = CatalogService.method;
  const cases: Array<[string, [string, string], Who, string]> = [
    ["Login login", typed(U.login, { login: "nul\u0000", password: "x" }), "anon", "login"],
    ["Register first name", typed(U.register, { username: "nuluser1", email: "nul1@example.test", password: "long-enough-pw-1", firstName: "a\u0000b" }), "anon", "first_name"],
    ["UpdateProfile bio", typed(U.updateProfile, { user: { profile: { bio: "x\u0000" } }, updateMask: { paths: ["profile.bio"] } }), "user", "user.profile.bio"],
    ["ListUsers query", typed(U.listUsers, { query: "a\u0000" }), "staff", "query"],
    ["RegisterDevice token", typed(N.registerDevice, { deviceToken: "tok\u0000en", deviceType: 3, deviceName: "n" }), "user", "device_token"],
    ["RegisterDevice name", typed(N.registerDevice, { deviceToken: "token", deviceType: 3, deviceName: "n\u0000" }), "user", "device_name"],
    ["SubmitFeedback comment", typed(R.submitFeedback, { recommendationId: "1", feedbackType: 1, comment: "ok\u0000" }), "user", "comment"],
    ["CreateTemplate name", typed(N.createTemplate, { template: { name: "t\u0000", templateType: 1, textContent: "b" } }), "staff", "template.name"],
    ["CreateTemplate text", typed(N.createTemplate, { template: { name: "t", templateType: 1, textContent: "b\u0000" } }), "staff", "template.text_content"],
    ["RecordMetric name", typed(A.recordMetric, { metricName: "m\u0000", metricValue: 1, metricUnit: 1 }), "staff", "metric_name"],
    ["a NUL key in a Struct", typed(N.previewTemplate, { source: { case: "templateId", value: "1" }, sampleData: { "k\u0000": "v" } }), "staff", "sample_data"],
    ["SearchMovies query (lone surrogate)", [`${C.searchMovies.parent.typeName}/SearchMovies`, `{"query":"ab\\ud800c"}`], "anon", "query"],
  ];
  it.each(cases)("%s is INVALID_ARGUMENT naming the field", async (_name, [path, body], who, field) => {
    const r = await call(path, body, as(who));
    expect(r.code).toBe("invalid_argument");
    expect(r.message).toContain(field);
  });

  it("invalid UTF-8 bytes in a JSON body are INVALID_ARGUMENT", async () => {
    const res = await fetch(`${ts.baseUrl}/${SVC.catalog}/SearchMovies`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Buffer.concat([Buffer.from('{"query":"ab'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    });
    expect(((await res.json()) as { code: string }).code).toBe("invalid_argument");
  });
});

describe("ids above bigint (row 6)", () => {
  const BIG = "9999999999999999999";
  const U = UserService.method, R = RecommendationService.method, N = NotificationService.method, C = CatalogService.method;
  const cases: Array<[string, [string, string], Who]> = [
    ["RecordInteraction", typed(R.recordInteraction, { movieId: BIG, type: 1 }), "user"],
    ["RecordInteraction recommendation", typed(R.recordInteraction, { movieId: "1", type: 1, recommendationId: BIG }), "user"],
    ["DeleteInteraction", typed(R.deleteInteraction, { target: { case: "interactionId", value: BIG } }), "user"],
    ["DeleteInteraction key", typed(R.deleteInteraction, { target: { case: "key", value: { movieId: BIG, type: 1 } } }), "user"],
    ["GetSimilarMovies", typed(R.getSimilarMovies, { movieId: BIG }), "user"],
    ["GetRecommendations genre", typed(R.getRecommendations, { genreId: BIG }), "user"],
    ["GetTrendingMovies genre", typed(R.getTrendingMovies, { genreId: BIG }), "user"],
    ["RecordRecommendationClick", typed(R.recordRecommendationClick, { recommendationId: BIG }), "user"],
    ["SubmitFeedback", typed(R.submitFeedback, { recommendationId: BIG, feedbackType: 1 }), "user"],
    ["SetFavoriteGenres", typed(U.setFavoriteGenres, { genreIds: ["1", BIG] }), "user"],
    ["GetUser", typed(U.getUser, { userId: BIG }), "staff"],
    ["UnregisterDevice", typed(N.unregisterDevice, { target: { case: "deviceId", value: BIG } }), "user"],
    ["DeleteTemplate", typed(N.deleteTemplate, { templateId: BIG }), "staff"],
    ["ListNotifications", typed(N.listNotifications, { userId: BIG }), "staff"],
    ["GetMovie", typed(C.getMovie, { lookup: { case: "id", value: BIG } }), "anon"],
  ];
  it.each(cases)("%s is INVALID_ARGUMENT or NOT_FOUND", async (_name, [path, body], who) => {
    const r = await call(path, body, as(who));
    expect(["invalid_argument", "not_found"]).toContain(r.code);
  });
});

describe("forged page tokens (row 7)", () => {
  const forged = [
    Buffer.from(JSON.stringify({ k: 1, i: "9999999999999999999", f: "x" })).toString("base64url"),
    Buffer.from(JSON.stringify({ k: { a: 1 }, i: 5, f: 1 })).toString("base64url"),
    Buffer.from(JSON.stringify([1e308, "99999999999999999999999"])).toString("base64url"),
    Buffer.from("9999999999999999999:abc").toString("base64url"),
    Buffer.from(JSON.stringify(["not-a-date", "1"])).toString("base64url"),
    "!!!not base64!!!",
  ];
  const lists: Array<[string, string, Record<string, unknown>, "anon" | "user" | "staff"]> = [
    ["ListMovies", `${SVC.catalog}/ListMovies`, {}, "anon"],
    ["SearchMovies", `${SVC.catalog}/SearchMovies`, { query: "star" }, "anon"],
    ["ListGenres", `${SVC.catalog}/ListGenres`, {}, "anon"],
    ["ListPersonCredits", `${SVC.catalog}/ListPersonCredits`, { get personId() { return personId; } }, "anon"],
    ["ListUsers", `${SVC.user}/ListUsers`, {}, "staff"],
    ["ListInteractions", `${SVC.rec}/ListInteractions`, {}, "user"],
    ["ListDevices", `${SVC.notif}/ListDevices`, {}, "user"],
    ["ListNotifications", `${SVC.notif}/ListNotifications`, {}, "user"],
    ["ListTemplates", `${SVC.notif}/ListTemplates`, {}, "staff"],
  ];
  it.each(lists)("%s refuses forged tokens with INVALID_ARGUMENT 'invalid page token'", async (_name, path, body, who) => {
    for (const pageToken of forged) {
      const r = await call(path, { ...body, pageToken }, as(who));
      expect({ pageToken, code: r.code }).toEqual({ pageToken, code: "invalid_argument" });
      expect(r.message).toContain("invalid page token");
    }
  });
});

describe("strict JSON (issue 12 item 4)", () => {
  it("an unknown enum name is INVALID_ARGUMENT naming the field", async () => {
    const r = await call(`${SVC.rec}/RecordInteraction`, { movieId: "3", type: "like" }, user);
    expect(r.code).toBe("invalid_argument");
    expect(r.message).toContain("InteractionType");
    const l = await call(`${SVC.catalog}/ListMovies`, { orderBy: "MOVIE_ORDER_BY_RATNG" });
    expect(l.code).toBe("invalid_argument");
    expect(l.message).toContain("MOVIE_ORDER_BY_RATNG");
  });

  it("an unknown field is INVALID_ARGUMENT naming it", async () => {
    const r = await call(`${SVC.catalog}/ListGenres`, { fooBar: 1 });
    expect(r.code).toBe("invalid_argument");
    expect(r.message).toContain("fooBar");
  });
});

describe("page sizes per AIP-158 (issue 12 item 6)", () => {
  const lists: Array<[string, string, Record<string, unknown>, Who, number]> = [
    ["ListMovies", `${SVC.catalog}/ListMovies`, {}, "anon", 100],
    ["SearchMovies", `${SVC.catalog}/SearchMovies`, { query: "star" }, "anon", 100],
    ["ListGenres", `${SVC.catalog}/ListGenres`, {}, "anon", 1000],
    ["ListPersonCredits", `${SVC.catalog}/ListPersonCredits`, { get personId() { return personId; } }, "anon", 100],
    ["ListUsers", `${SVC.user}/ListUsers`, {}, "staff", 200],
    ["ListInteractions", `${SVC.rec}/ListInteractions`, {}, "user", 200],
    ["ListDevices", `${SVC.notif}/ListDevices`, {}, "user", 200],
    ["ListNotifications", `${SVC.notif}/ListNotifications`, {}, "user", 200],
    ["ListTemplates", `${SVC.notif}/ListTemplates`, {}, "staff", 200],
  ];
  it.each(lists)("%s reduces an oversized page size and refuses a negative one", async (_name, path, body, who) => {
    const big = await call(path, { ...body, pageSize: 5000 }, as(who));
    expect(big.status).toBe(200);
    const negative = await call(path, { ...body, pageSize: -1 }, as(who));
    expect(negative.code).toBe("invalid_argument");
    expect(negative.message).toContain("page_size");
  });
});

describe("malformed protobuf bytes (row 8)", () => {
  const body = Uint8Array.from([0x0a, 0x02, 0xff, 0xfe]); // field 1 as a string of invalid UTF-8

  it("over application/proto: INVALID_ARGUMENT with a request id", async () => {
    const res = await fetch(`${ts.baseUrl}/${SVC.catalog}/SearchMovies`, { method: "POST", headers: { "content-type": "application/proto" }, body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("invalid_argument");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("over application/grpc: INVALID_ARGUMENT with the caller's request id echoed", async () => {
    const client = new grpc.Client(ts.grpcAddress, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    md.set("x-request-id", "fuzz-req-1");
    const result = await new Promise<{ err: grpc.ServiceError | null; headers?: grpc.Metadata }>((resolve) => {
      let headers: grpc.Metadata | undefined;
      const call = client.makeUnaryRequest(`/${SVC.catalog}/SearchMovies`, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(body), md, (err) => resolve({ err, headers }));
      call.on("metadata", (m) => (headers = m));
    });
    client.close();
    expect(result.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(result.headers?.get("x-request-id")).toEqual(["fuzz-req-1"]);
  });
});
