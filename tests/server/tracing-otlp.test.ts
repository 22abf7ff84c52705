/**
 * Tracing as an operator turns it on: `npm start` with OTEL_EXPORTER_OTLP_ENDPOINT set sends OTLP/HTTP (protobuf)
 * batches to that collector, with the RPC's SERVER span and the PostgreSQL queries it made (pg is instrumented in the
 * real ESM entry point, not only under the test runner). A local HTTP server stands in for the collector.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { RecommendationService, TrendingWindow } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

const posts: { path: string; type: string; body: Buffer }[] = [];
let collector: Server;
let api: ServerProcess;
beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      posts.push({ path: req.url ?? "", type: String(req.headers["content-type"]), body: Buffer.concat(chunks) });
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
  const port = (collector.address() as AddressInfo).port;
  api = await startServerProcess({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: "100", OTEL_SERVICE_NAME: "movierec-otlp-test" });
});
afterAll(async () => {
  await api?.stop();
  collector?.close();
});

it("exports the RPC span and its PostgreSQL queries to the OTLP endpoint", async () => {
  const client = createClient(RecommendationService, createConnectTransport({ baseUrl: api.baseUrl, httpVersion: "1.1" }));
  await client.getTrendingMovies({ window: TrendingWindow.WEEK });
  const until = Date.now() + 15_000;
  const text = () => Buffer.concat(posts.map((p) => p.body)).toString("latin1");
  while (!(text().includes("RecommendationService/GetTrendingMovies") && text().includes("postgresql")) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  expect(posts.length).toBeGreaterThan(0);
  expect(posts[0].path).toBe("/v1/traces");
  expect(posts[0].type).toBe("application/x-protobuf");
  expect(text()).toContain("movierec-otlp-test");
  expect(text()).toContain("RecommendationService/GetTrendingMovies");
  expect(text()).toContain("postgresql");
});
