import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  PermissionError,
  PreconditionError,
  RateLimitedError,
  UnauthenticatedError,
} from "../../src/platform/errors.ts";
import { EMPTY_IMPLS } from "../../src/server/services.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";

// Handlers that throw, behind the real interceptor chain: what does the caller see?
let throwing: unknown;
let ts: TestServer;
// A staff caller: the methods below need a signed-in (getMe) or staff (getModelStatus) caller since authentication exists.
let staff: TestUser;
beforeAll(async () => {
  ts = await startTestServer({
    impls: {
      ...EMPTY_IMPLS,
      catalog: {
        listGenres() {
          throw throwing;
        },
      },
      user: {
        async getMe(_req, ctx) {
          // Waits until the caller's deadline cancels the call.
          await new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
          return {};
        },
      },
    },
  });
  staff = await createTestUser(ts.deps, { staff: true });
});
afterAll(async () => {
  await ts?.close();
});

async function callWith(error: unknown, transport = createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" })): Promise<ConnectError> {
  throwing = error;
  const client = createClient(CatalogService, transport);
  return client.listGenres({}).then(
    () => {
      throw new Error("expected an error");
    },
    (e: unknown) => ConnectError.from(e),
  );
}

describe("error mapping", () => {
  it.each([
    [new NotFoundError("movie", "42"), Code.NotFound, "movie 42 not found"],
    [new ConflictError("username is taken"), Code.AlreadyExists, "username is taken"],
    [new InvalidInputError("unknown genre 99", "genre_ids"), Code.InvalidArgument, "genre_ids: unknown genre 99"],
    [new PermissionError("staff only"), Code.PermissionDenied, "staff only"],
    [new UnauthenticatedError("sign in first"), Code.Unauthenticated, "sign in first"],
    [new PreconditionError("no trained model yet"), Code.FailedPrecondition, "no trained model yet"],
    [new RateLimitedError("too many attempts", 30_000), Code.ResourceExhausted, "too many attempts"],
  ])("maps %o to its gRPC code with its message", async (error, code, message) => {
    const err = await callWith(error);
    expect(err.code).toBe(code);
    expect(err.rawMessage).toBe(message);
  });

  it("tells a rate-limited caller when to retry", async () => {
    const err = await callWith(new RateLimitedError("slow down", 2500));
    expect(err.metadata.get("retry-after")).toBe("3");
  });

  it("turns an unexpected error into INTERNAL without leaking its message or stack", async () => {
    const secret = new Error('duplicate key value violates unique constraint "users_pkey" SELECT password FROM users');
    for (const transport of [createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }), createGrpcTransport({ baseUrl: ts.baseUrl })]) {
      const err = await callWith(secret, transport);
      expect(err.code).toBe(Code.Internal);
      expect(err.rawMessage).toBe("internal error");
      expect(JSON.stringify(err.details)).not.toContain("users");
    }
    // A non-Error value thrown is handled the same way.
    expect((await callWith("SELECT 1")).code).toBe(Code.Internal);
  });

  it("honours the caller's deadline", async () => {
    const client = createClient(UserService, createGrpcTransport({ baseUrl: ts.baseUrl }));
    const started = Date.now();
    const err = await client.getMe({}, { timeoutMs: 200, headers: staff.headers }).then(() => undefined, (e: unknown) => ConnectError.from(e));
    expect(err?.code).toBe(Code.DeadlineExceeded);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("still answers UNIMPLEMENTED for methods no module implements", async () => {
    const client = createClient(RecommendationService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
    const err = await client.getModelStatus({}, { headers: staff.headers }).then(() => undefined, (e: unknown) => ConnectError.from(e));
    expect(err?.code).toBe(Code.Unimplemented);
  });
});
