import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { GrpcReflection } from "grpc-js-reflection-client";
import { startTestServer, type TestServer } from "../support/server.ts";

const API = [
  "movierec.user.v1.UserService",
  "movierec.catalog.v1.CatalogService",
  "movierec.recommendation.v1.RecommendationService",
  "movierec.notification.v1.NotificationService",
  "movierec.analytics.v1.AnalyticsService",
];
const INFRA = ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts?.close();
});

describe.each(["v1", "v1alpha"])("server reflection %s, read by an independent client", (version) => {
  const client = () => new GrpcReflection(ts.grpcAddress, grpc.credentials.createInsecure(), {}, version);

  it("lists the five services plus health and reflection", async () => {
    const services = await client().listServices();
    expect([...services].sort()).toEqual([...API, ...INFRA].sort());
  });

  it.each(API)("resolves %s to a descriptor with its methods and dependencies", async (service) => {
    const methods = await client().listMethods(service);
    expect(methods.length).toBeGreaterThan(3);
    for (const m of methods) expect(m.name).toMatch(/^[A-Z][A-Za-z]+$/);
    const descriptor = await client().getDescriptorBySymbol(service);
    const root = descriptor.getProtobufJsRoot();
    // The root can only resolve the service if every transitive import arrived too.
    expect(root.lookupService(service).methodsArray.length).toBe(methods.length);
  });

  it("finds a file by name, and a message by symbol", async () => {
    const byFile = await client().getDescriptorByFileName("grpc/health/v1/health.proto");
    expect(byFile.getProtobufJsRoot().lookupService("grpc.health.v1.Health").methodsArray.map((m) => m.name).sort()).toEqual(["Check", "List", "Watch"]);
    const bySymbol = await client().getDescriptorBySymbol("movierec.user.v1.RegisterRequest");
    expect(bySymbol.getProtobufJsRoot().lookupType("movierec.user.v1.RegisterRequest").fieldsArray.map((f) => f.name)).toContain("email");
  });

  it("answers an unknown symbol with NOT_FOUND", async () => {
    await expect(client().getDescriptorBySymbol("no.such.Thing")).rejects.toThrow();
  });
});
