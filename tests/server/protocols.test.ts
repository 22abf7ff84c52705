import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createConnectTransport as createWebTransport } from "@connectrpc/connect-web";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { grpcClient, grpcUnary, grpcUnaryRaw } from "../support/grpc-client.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { EMPTY_IMPLS } from "../../src/server/services.ts";

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts?.close();
});

const transports = () => ({
  "Connect (HTTP/1.1)": createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }),
  "Connect (HTTP/2)": createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "2" }),
  "gRPC-Web (HTTP/1.1)": createGrpcWebTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }),
  "gRPC (HTTP/2)": createGrpcTransport({ baseUrl: ts.baseUrl }),
  "Connect-Web (fetch)": createWebTransport({ baseUrl: ts.baseUrl }),
});

describe("one port, three protocols", () => {
  it("runs on Node 24 (not the machine's older Node)", () => {
    expect(process.versions.node.split(".")[0]).toBe("24");
  });

  it("answers the same health check over every protocol", async () => {
    for (const [name, transport] of Object.entries(transports())) {
      const client = createClient(Health, transport);
      const res = await client.check({ service: "movierec.catalog.v1.CatalogService" });
      expect(res.status, name).toBe(Status.SERVING);
    }
    const grpcJs = grpcClient(ts.grpcAddress);
    try {
      const res = await grpcUnary(grpcJs, Health.method.check, { service: "" });
      expect(res.status).toBe(Status.SERVING);
    } finally {
      grpcJs.close();
    }
  });

  it("reports an unknown service as NOT_FOUND", async () => {
    const client = createClient(Health, transports()["Connect (HTTP/1.1)"]);
    await expect(client.check({ service: "no.such.Service" })).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("answers methods that are not built yet with UNIMPLEMENTED on every protocol", async () => {
    // A server with no module handlers, so this keeps holding as the modules land.
    const bare = await startTestServer({ impls: EMPTY_IMPLS });
    try {
      const bareTransports = {
        "Connect (HTTP/1.1)": createConnectTransport({ baseUrl: bare.baseUrl, httpVersion: "1.1" }),
        "Connect (HTTP/2)": createConnectTransport({ baseUrl: bare.baseUrl, httpVersion: "2" }),
        "gRPC-Web (HTTP/1.1)": createGrpcWebTransport({ baseUrl: bare.baseUrl, httpVersion: "1.1" }),
        "gRPC (HTTP/2)": createGrpcTransport({ baseUrl: bare.baseUrl }),
        "Connect-Web (fetch)": createWebTransport({ baseUrl: bare.baseUrl }),
      };
      for (const [name, transport] of Object.entries(bareTransports)) {
        const client = createClient(CatalogService, transport);
        const err = await client.listGenres({}).then(() => undefined, (e: unknown) => ConnectError.from(e));
        expect(err?.code, name).toBe(Code.Unimplemented);
      }
      const grpcJs = grpcClient(bare.grpcAddress);
      try {
        await expect(grpcUnary(grpcJs, CatalogService.method.listGenres, {})).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
      } finally {
        grpcJs.close();
      }
    } finally {
      await bare.close();
    }
  });

  it("answers a Connect JSON call made with plain HTTP (what curl does)", async () => {
    const res = await fetch(`${ts.baseUrl}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ service: "" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "SERVING" });
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("echoes a caller's request id", async () => {
    const res = await fetch(`${ts.baseUrl}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "trace-abc.123" },
      body: "{}",
    });
    expect(res.headers.get("x-request-id")).toBe("trace-abc.123");
  });
});

describe("validation", () => {
  it("rejects an invalid request with INVALID_ARGUMENT naming the field, on every protocol", async () => {
    for (const [name, transport] of Object.entries(transports())) {
      const client = createClient(UserService, transport);
      const err = await client
        .register({ username: "ok_user", email: "not-an-email", password: "a-long-enough-password" })
        .then(() => undefined, (e: unknown) => ConnectError.from(e));
      expect(err?.code, name).toBe(Code.InvalidArgument);
      expect(err?.rawMessage, name).toContain("email");
    }
  });

  it("names the field in a grpc-js error too", async () => {
    const grpcJs = grpcClient(ts.grpcAddress);
    try {
      const err = await grpcUnary(grpcJs, UserService.method.register, { username: "x", email: "a@b.co", password: "a-long-enough-password" }).catch((e: grpc.ServiceError) => e);
      expect((err as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
      expect((err as grpc.ServiceError).details).toContain("username");
      // The structured violations travel in grpc-status-details-bin.
      expect((err as grpc.ServiceError).metadata.get("grpc-status-details-bin").length).toBe(1);
    } finally {
      grpcJs.close();
    }
  });

  it("answers malformed protobuf bytes with an error and keeps serving", async () => {
    const grpcJs = grpcClient(ts.grpcAddress);
    try {
      const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x99]);
      const err = await grpcUnaryRaw(grpcJs, "/movierec.user.v1.UserService/Register", garbage).catch((e: grpc.ServiceError) => e);
      // connect-node decodes before any interceptor runs and says INTERNAL "parse binary: …"; rpc-adapter.ts
      // corrects that to INVALID_ARGUMENT. An error that leaks nothing, and a server that keeps going.
      expect((err as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
      expect((err as grpc.ServiceError).details).toMatch(/^malformed request message/);
      const res = await grpcUnary(grpcJs, Health.method.check, { service: "" });
      expect(res.status).toBe(Status.SERVING);
    } finally {
      grpcJs.close();
    }
    const bad = await fetch(`${ts.baseUrl}/grpc.health.v1.Health/Check`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(bad.status).toBe(400);
    const ok = await fetch(`${ts.baseUrl}/healthz`);
    expect(ok.status).toBe(200);
  });
});

describe("CORS", () => {
  const preflight = (origin: string) =>
    fetch(`${ts.baseUrl}/movierec.catalog.v1.CatalogService/ListGenres`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,connect-protocol-version" },
    });

  it("answers a preflight from an allowed origin", async () => {
    const res = await preflight("https://app.example.com");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("connect-protocol-version");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
  });

  it("refuses a preflight from another origin", async () => {
    const res = await preflight("https://evil.example.net");
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("lets an allowed browser read the response and its headers", async () => {
    const res = await fetch(`${ts.baseUrl}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { origin: "https://app.example.com", "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(res.headers.get("access-control-expose-headers")).toContain("Grpc-Status");
  });
});
