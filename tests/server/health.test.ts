import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Redis } from "ioredis";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { createRedis, pingRedis } from "../../src/platform/redis.ts";
import { withTimeout } from "../../src/platform/timeout.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

// A private redis-server of this test's own, so it can be stopped without disturbing anything else.
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
function startRedis(port: number): ChildProcess {
  return spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
}
async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

let ts: TestServer;
let redisProc: ChildProcess;
let port: number;
let privateRedis: Redis;

beforeAll(async () => {
  port = await freePort();
  redisProc = startRedis(port);
  privateRedis = createRedis(`redis://127.0.0.1:${port}/0`);
  privateRedis.on("error", () => {});
  expect(await waitFor(() => pingRedis(privateRedis, 200), 10_000)).toBe(true);
  ts = await startTestServer({
    healthIntervalMs: 100,
    probes: {
      postgres: async () => true,
      redis: () => pingRedis(privateRedis, 300),
    },
  });
});
afterAll(async () => {
  await ts?.close();
  privateRedis?.disconnect();
  redisProc?.kill("SIGKILL");
});

describe("grpc.health.v1", () => {
  it("goes NOT_SERVING while Redis is unreachable and SERVING again when it returns", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: ts.baseUrl }));
    expect((await client.check({ service: "" })).status).toBe(Status.SERVING);

    // Watch sees the transitions as they happen.
    const abort = new AbortController();
    const seen: Status[] = [];
    const watching = (async () => {
      try {
        for await (const res of client.watch({ service: "movierec.user.v1.UserService" }, { signal: abort.signal })) seen.push(res.status);
      } catch {
        // aborted at the end of the test
      }
    })();

    redisProc.kill("SIGKILL");
    expect(await waitFor(async () => (await client.check({ service: "" })).status === Status.NOT_SERVING, 10_000)).toBe(true);
    expect((await client.check({ service: "movierec.catalog.v1.CatalogService" })).status).toBe(Status.NOT_SERVING);
    const down = await fetch(`${ts.baseUrl}/healthz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: "NOT_SERVING", failing: ["redis"] });

    redisProc = startRedis(port);
    expect(await waitFor(async () => (await client.check({ service: "" })).status === Status.SERVING, 15_000)).toBe(true);
    await waitFor(async () => seen.length >= 3, 2000);
    abort.abort();
    await watching;
    expect(seen.slice(0, 3)).toEqual([Status.SERVING, Status.NOT_SERVING, Status.SERVING]);
  });

  it("reports SERVICE_UNKNOWN through Watch for an unknown service", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: ts.baseUrl }));
    const abort = new AbortController();
    for await (const res of client.watch({ service: "nope.Nope" }, { signal: abort.signal })) {
      expect(res.status).toBe(Status.SERVICE_UNKNOWN);
      abort.abort();
      break;
    }
  });
});

describe("real probes", () => {
  it("probe the real PostgreSQL and Redis of this run", async () => {
    const real = await startTestServer();
    try {
      expect(await withTimeout(real.orm.em.getConnection().execute("select 1 as one"), 2000, [])).toEqual([{ one: 1 }]);
      expect(real.server.health.failing).toEqual([]);
    } finally {
      await real.close();
    }
  });
});
