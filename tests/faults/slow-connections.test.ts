/**
 * Issue 11 row 3: connections that are idle, stuck in protocol sniffing (half an HTTP/2 preface) or trickling
 * HTTP/1.1 headers are closed after a bounded, configurable time, while other clients keep being served.
 * Raw sockets against the real server on a random port, with HEADERS_TIMEOUT_MS / IDLE_TIMEOUT_MS set low.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";

const HEADERS_TIMEOUT_MS = 800;
const IDLE_TIMEOUT_MS = 1200;
const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// An empty SETTINGS frame: what follows the preface in a real HTTP/2 connection.
const SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ env: { HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS) } });
});
afterAll(async () => {
  await ts?.close();
});

/** Opens a raw connection, runs `behave` on it, resolves with the time until the server closed it (or Infinity). */
function rawConnection(behave: (s: net.Socket) => (() => void) | void, giveUpMs: number): Promise<number> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = net.connect(ts.server.port, "127.0.0.1");
    let stop: (() => void) | void;
    const timer = setTimeout(() => {
      stop?.();
      s.destroy();
      resolve(Infinity);
    }, giveUpMs);
    s.on("connect", () => (stop = behave(s)));
    s.on("data", () => {}); // a 408 or a GOAWAY may come first; the close is what counts
    s.on("error", () => {}); // ECONNRESET counts as closed
    s.on("close", () => {
      clearTimeout(timer);
      stop?.();
      resolve(Date.now() - started);
    });
  });
}

const N = 40; // of each kind; the campaign used 200, the bound per connection is what is checked

describe("slow and idle connections (row 3)", () => {
  it("closes idle, half-preface and header-trickling connections within the bounds, and keeps serving others", async () => {
    const giveUp = 10_000;
    const idle = Array.from({ length: N }, () => rawConnection(() => {}, giveUp));
    const halfPreface = Array.from({ length: N }, () => rawConnection((s) => void s.write(PREFACE.slice(0, 12)), giveUp));
    const prefaceThenNothing = Array.from({ length: N }, () => rawConnection((s) => void s.write(Buffer.concat([Buffer.from(PREFACE), SETTINGS])), giveUp));
    const trickle = Array.from({ length: N }, () =>
      rawConnection((s) => {
        s.write("POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\n");
        let i = 0;
        // A header line every 150 ms: each one is fresh activity, so only a headers deadline can stop it.
        const iv = setInterval(() => s.write(`X-Slow-${i++}: y\r\n`), 150);
        return () => clearInterval(iv);
      }, giveUp),
    );
    // Meanwhile a well-behaved client is served over both HTTP versions.
    const h1 = createClient(Health, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
    const h2 = createClient(Health, createGrpcTransport({ baseUrl: ts.baseUrl }));
    // Answered is what counts (a probe timing out on a loaded machine may say NOT_SERVING, still an answer).
    const answered = [Status.SERVING, Status.NOT_SERVING];
    for (let i = 0; i < 5; i++) {
      expect(answered).toContain((await h1.check({ service: "" })).status);
      expect(answered).toContain((await h2.check({ service: "" })).status);
      await new Promise((r) => setTimeout(r, 100));
    }
    const [tIdle, tHalf, tPreface, tTrickle] = await Promise.all([idle, halfPreface, prefaceThenNothing, trickle].map((g) => Promise.all(g)));
    console.log("closed after (max ms): idle", Math.max(...tIdle!), "half preface", Math.max(...tHalf!), "preface only", Math.max(...tPreface!), "trickle", Math.max(...tTrickle!));
    // Slack for a loaded 2-core machine; without the bounds every one of these stays open (Infinity).
    const slack = 2500;
    expect(Math.max(...tIdle!)).toBeLessThan(HEADERS_TIMEOUT_MS + slack);
    expect(Math.max(...tHalf!)).toBeLessThan(HEADERS_TIMEOUT_MS + slack);
    expect(Math.max(...tPreface!)).toBeLessThan(IDLE_TIMEOUT_MS + slack);
    expect(Math.max(...tTrickle!)).toBeLessThan(HEADERS_TIMEOUT_MS + slack);
    // And not closed absurdly early either: the bound is the configured one.
    expect(Math.min(...tIdle!)).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(answered).toContain((await h2.check({ service: "" })).status);
  });

  it("closes an idle HTTP/1.1 keep-alive connection and an HTTP/2 session without streams", async () => {
    // Keep-alive: one complete request, then silence.
    const keepAlive = rawConnection((s) => {
      const body = JSON.stringify({ service: "" });
      s.write(`POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    }, 10_000);
    const t = await keepAlive;
    console.log("keep-alive closed after", t);
    expect(t).toBeLessThan(IDLE_TIMEOUT_MS + 2500);
  });

  it("rejects configuration values out of range", async () => {
    const { loadConfig, ConfigError } = await import("../../src/platform/config.ts");
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: "5" })).toThrow(ConfigError);
    expect(() => loadConfig({ IDLE_TIMEOUT_MS: "abc" })).toThrow(/IDLE_TIMEOUT_MS/);
    expect(loadConfig({}).headersTimeoutMs).toBe(10_000);
  });
});
