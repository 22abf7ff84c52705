/**
 * Every RPC of the six services, against every kind of caller: anonymous, a user, another user, staff, a service
 * token with one scope, and a forged token. A method without a rule fails here, and each caller gets exactly what the
 * rule says: UNAUTHENTICATED / PERMISSION_DENIED when refused, anything else (OK, INVALID_ARGUMENT for the empty
 * request, UNIMPLEMENTED for a module not built yet) when let through.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AUTH_RULES, authRuleFor, type AuthRule } from "../../src/server/auth-rules.ts";
import { API_SERVICES } from "../../src/server/services.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "./test-users.ts";

const SERVICE_SECRET = "svc_" + "k".repeat(40);
let ts: TestServer;
let transport: Transport;
let alice: TestUser;
let bob: TestUser;
let staff: TestUser;

beforeAll(async () => {
  ts = await startTestServer({ env: { SERVICE_TOKENS: `web-backend:analytics.write:${SERVICE_SECRET}` } });
  transport = createGrpcTransport({ baseUrl: ts.baseUrl });
  [alice, bob, staff] = await Promise.all([createTestUser(ts.deps), createTestUser(ts.deps), createTestUser(ts.deps, { staff: true })]);
});
afterAll(async () => {
  await ts?.close();
});

/** Requests that change nothing when let through (Logout names a session that does not exist). */
function requestFor(method: DescMethod): Record<string, unknown> {
  if (method.parent.typeName === "movierec.user.v1.UserService" && method.name === "Logout") return { refreshToken: "no-such-refresh-token" };
  return {};
}

/** Calls `method` with an empty request as `headers`; returns the gRPC code (0 for OK). */
async function codeOf(service: DescService, method: DescMethod, headers: Record<string, string>): Promise<Code | 0> {
  const client = createClient(service, transport) as unknown as Record<string, (...a: unknown[]) => unknown>;
  const call = client[method.localName]!;
  try {
    if (method.methodKind === "unary") await call(requestFor(method), { headers, timeoutMs: 10_000 });
    else if (method.methodKind === "client_streaming") await call((async function* () {})(), { headers, timeoutMs: 10_000 });
    else if (method.methodKind === "server_streaming") for await (const _ of call(requestFor(method), { headers, timeoutMs: 10_000 }) as AsyncIterable<unknown>);
    else for await (const _ of call((async function* () {})(), { headers, timeoutMs: 10_000 }) as AsyncIterable<unknown>);
    return 0;
  } catch (e) {
    return ConnectError.from(e).code;
  }
}

type CallerName = "anonymous" | "user" | "otherUser" | "staff" | "service" | "forged";
const REFUSED = new Set<Code | 0>([Code.Unauthenticated, Code.PermissionDenied]);

/** What the rule promises each caller: the refusal code, or "allowed". */
function expected(rule: AuthRule, who: CallerName): Code | "allowed" {
  if (rule.access === "public") return "allowed";
  if (who === "anonymous" || who === "forged") return Code.Unauthenticated;
  if (who === "service") return rule.scope === "analytics.write" ? "allowed" : Code.PermissionDenied;
  if (rule.access === "staff" && who !== "staff") return Code.PermissionDenied;
  return "allowed";
}

const methods = API_SERVICES.flatMap((s) => s.methods.map((m) => [`${s.typeName}/${m.name}`, s, m] as const));

describe("authorisation rules", () => {
  it("has a rule for every method of every service, and none for a method that does not exist", () => {
    const missing = methods.filter(([, s, m]) => authRuleFor(s.typeName, m.name) === undefined).map(([name]) => name);
    expect(missing).toEqual([]);
    const known = new Set<string>(methods.map(([name]) => name));
    const stale = Object.entries(AUTH_RULES).flatMap(([s, rules]) => Object.keys(rules).map((m) => `${s}/${m}`)).filter((n) => !known.has(n));
    expect(stale).toEqual([]);
    expect(methods.length).toBeGreaterThan(50);
  });

  it("keeps the public list to sign-up/sign-in, catalogue reads, similar and trending movies", () => {
    const publicMethods = methods.filter(([, s, m]) => authRuleFor(s.typeName, m.name)?.access === "public").map(([, , m]) => m.name);
    expect(publicMethods.sort()).toEqual(
      ["Register", "Login", "RefreshSession", "GetMovie", "BatchGetMovies", "ListMovies", "SearchMovies", "ListGenres", "GetPerson", "ListPersonCredits", "GetSimilarMovies", "GetTrendingMovies"].sort(),
    );
  });

  it.each(methods.map(([name, s, m]) => [name, s, m] as const))("%s: every caller gets what the rule says", async (_name, service, method) => {
    const rule = authRuleFor(service.typeName, method.name)!;
    const callers: Record<CallerName, Record<string, string>> = {
      anonymous: {},
      user: alice.headers,
      otherUser: bob.headers,
      staff: staff.headers,
      service: { authorization: `Bearer ${SERVICE_SECRET}` },
      forged: { authorization: `Bearer ${alice.accessToken.slice(0, -4)}AAAA` },
    };
    for (const [who, headers] of Object.entries(callers) as [CallerName, Record<string, string>][]) {
      const code = await codeOf(service, method, headers);
      const want = expected(rule, who);
      if (want === "allowed") expect(REFUSED.has(code), `${who} should pass the gate, got ${Code[code] ?? "OK"}`).toBe(false);
      else expect(code, `${who}`).toBe(want);
    }
  });

  it("health and reflection stay public", async () => {
    const res = await fetch(`${ts.baseUrl}/grpc.health.v1.Health/Check`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(200);
  });

  it("reads the bearer token from HTTP headers (Connect JSON) as well as gRPC metadata", async () => {
    const call = (auth?: string) =>
      fetch(`${ts.baseUrl}/movierec.user.v1.UserService/GetMe`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) },
        body: "{}",
      });
    const ok = await call(`Bearer ${alice.accessToken}`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { user: { id: string } }).user.id).toBe(alice.userId);
    expect((await call()).status).toBe(401);
    expect((await call(`Basic ${Buffer.from("a:b").toString("base64")}`)).status).toBe(401);
  });
});
