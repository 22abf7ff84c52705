import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { GrpcReflection } from "grpc-js-reflection-client";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { create, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ServerReflection, ServerReflectionRequestSchema } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";

const API = [
  "movierec.user.v1.UserService",
  "movierec.catalog.v1.CatalogService",
  "movierec.recommendation.v1.RecommendationService",
  "movierec.recommendation.v1.ExperimentService",
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

  it("lists the six services plus health and reflection", async () => {
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

/** Comments of a descriptor element by its source-info path (see descriptor.proto's SourceCodeInfo.Location). */
function commentAt(file: FileDescriptorProto, path: number[]): string | undefined {
  return file.sourceCodeInfo?.location.find((l) => l.path.length === path.length && l.path.every((p, i) => p === path[i]))?.leadingComments.trim();
}

describe("reflection serves the proto comments (what `grpcurl describe` prints)", () => {
  async function fileOf(symbol: string): Promise<FileDescriptorProto> {
    const client = createClient(ServerReflection, createGrpcTransport({ baseUrl: ts.baseUrl }));
    async function* one() {
      yield create(ServerReflectionRequestSchema, { messageRequest: { case: "fileContainingSymbol", value: symbol } });
    }
    for await (const res of client.serverReflectionInfo(one())) {
      if (res.messageResponse.case !== "fileDescriptorResponse") throw new Error(`no descriptor for ${symbol}`);
      // The requested file comes last, after its dependencies.
      return fromBinary(FileDescriptorProtoSchema, res.messageResponse.value.fileDescriptorProto.at(-1)!);
    }
    throw new Error("no answer");
  }

  it("has the service, method and field comments of RecommendationService", async () => {
    const file = await fileOf("movierec.recommendation.v1.RecommendationService.GetSimilarMovies");
    const s = file.service.findIndex((x) => x.name === "RecommendationService");
    const m = file.service[s]!.method.findIndex((x) => x.name === "GetSimilarMovies");
    expect(commentAt(file, [6, s])).toBe("Interactions in, recommendations out. All RPCs act for the authenticated caller.");
    expect(commentAt(file, [6, s, 2, m])).toBe("Returns movies similar to one movie; needs no history, so anonymous callers may use it.");
    const msg = file.messageType.findIndex((x) => x.name === "GetSimilarMoviesRequest");
    const f = file.messageType[msg]!.field.findIndex((x) => x.name === "limit");
    expect(commentAt(file, [4, msg, 2, f])).toBe("0 means the default (20).");
  });

  it("documents every service and every method of the six services", async () => {
    for (const service of API) {
      const file = await fileOf(service);
      const s = file.service.findIndex((x) => `${file.package}.${x.name}` === service);
      expect(commentAt(file, [6, s]), service).toBeTruthy();
      file.service[s]!.method.forEach((m, i) => expect(commentAt(file, [6, s, 2, i]), `${service}.${m.name}`).toBeTruthy());
    }
  });

  // The real grpcurl, where the machine has it (a user's clone may not: GRPCURL=/path/to/grpcurl to point at one).
  const grpcurl = [process.env.GRPCURL, ...(process.env.PATH ?? "").split(":").map((d) => `${d}/grpcurl`)].find((p) => p && existsSync(p));
  it.skipIf(!grpcurl)("grpcurl describe prints the comments of a service, a method and a message", async () => {
    const run = (...args: string[]) => promisify(execFile)(grpcurl!, ["-plaintext", ...args], { timeout: 20_000 }).then((r) => r.stdout);
    const method = await run(ts.grpcAddress, "describe", "movierec.recommendation.v1.RecommendationService.GetSimilarMovies");
    expect(method).toContain("// Returns movies similar to one movie; needs no history, so anonymous callers may use it.");
    const service = await run(ts.grpcAddress, "describe", "movierec.recommendation.v1.RecommendationService");
    expect(service).toContain("// Interactions in, recommendations out. All RPCs act for the authenticated caller.");
    const message = await run(ts.grpcAddress, "describe", "movierec.recommendation.v1.GetSimilarMoviesRequest");
    expect(message).toContain("// 0 means the default (20).");
  });
});
