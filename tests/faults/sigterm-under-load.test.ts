/**
 * Issue 11 row 12: SIGTERM under load. The real server process (`node src/main.ts serve`) is called by HTTP/1.1
 * keep-alive clients (Connect JSON), HTTP/2 clients (connect-node gRPC) and grpc-js, then SIGTERMed.
 * What must hold: calls in flight at the signal finish OK; calls arriving afterwards get UNAVAILABLE (HTTP/1.1 with
 * `Connection: close`) or find the port closed; nothing ends INTERNAL or with a cut connection (EPIPE, ECONNRESET,
 * "socket hang up"); the process exits 0 well before the grace period ends.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import http from "node:http";
import { createInterface } from "node:readline";
import { describe, expect, inject, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { grpcClient, grpcUnary } from "../support/grpc-client.ts";

const GRACE_MS = 8000;

interface Outcome {
  client: string;
  start: number;
  end: number;
  /** "ok", a Connect/gRPC code name, or the socket error code. */
  result: string;
  connectionClose?: boolean;
}

function startServerProcess() {
  const child = spawn(process.execPath, ["src/main.ts", "serve"], {
    env: {
      PATH: process.env.PATH ?? "",
      LOG_LEVEL: "info",
      DATABASE_URL: inject("databaseUrl"),
      REDIS_URL: inject("redisUrl"),
      REDIS_PREFIX: inject("redisPrefix"),
      PORT: "0",
      HOST: "127.0.0.1",
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
      SERVER_PROCESSES: "1", // the listener's own behaviour; the cluster has tests/server/cluster.test.ts
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const port = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg?.startsWith("listening")) resolve(entry.port!);
      } catch {
        // not JSON: kept in `lines` for the failure message
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited ${code} before listening: ${lines.join("\n")}`)));
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return { child, port, lines, stderr: () => stderr };
}

/** One Connect JSON call over a keep-alive HTTP/1.1 agent, recording the code and the Connection header. */
function h1Call(agent: http.Agent, port: number, path: string, body: unknown): Promise<Omit<Outcome, "client" | "start" | "end">> {
  return new Promise((resolve) => {
    const payload = Buffer.from(JSON.stringify(body));
    const req = http.request(
      { host: "127.0.0.1", port, path, method: "POST", agent, headers: { "content-type": "application/json", "content-length": payload.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          const connectionClose = res.headers.connection === "close";
          if (res.statusCode === 200) return resolve({ result: "ok", connectionClose });
          let code = `http_${res.statusCode}`;
          try {
            code = (JSON.parse(text) as { code?: string }).code ?? code;
          } catch {
            // not a Connect error body
          }
          resolve({ result: code, connectionClose });
        });
        res.on("error", (e: NodeJS.ErrnoException) => resolve({ result: e.code ?? e.message }));
      },
    );
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ result: e.code ?? e.message }));
    req.end(payload);
  });
}

const connectCode = (e: unknown) => {
  const c = Code[ConnectError.from(e).code]!.toLowerCase();
  return c === "unavailable" || c === "ok" ? c : `${c} (${ConnectError.from(e).message})`;
};
const GRPC_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k.toLowerCase()]));

describe("SIGTERM under load (row 12)", () => {
  it("finishes in-flight calls, refuses new ones with UNAVAILABLE, cuts nothing, exits 0", async () => {
    const srv = startServerProcess();
    const port = await srv.port;
    const baseUrl = `http://127.0.0.1:${port}`;
    const users = createClient(UserService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
    const tag = Math.random().toString(36).slice(2, 8);
    const password = "sigterm-load-password";
    // One account per Login loop, so the per-account throttle never gets in the way of concurrent successes.
    const logins = ["a", "b", "c", "d"].map((x) => `st_${tag}_${x}`);
    for (const u of logins) await users.register({ username: u, email: `${u}@example.com`, password });

    const outcomes: Outcome[] = [];
    let stopped = false;
    const loop = async (client: string, call: () => Promise<Omit<Outcome, "client" | "start" | "end">>) => {
      while (!stopped) {
        const start = performance.now();
        const r = await call();
        outcomes.push({ client, start, end: performance.now(), ...r });
        // After the server refused or went away, this client is done (a real one would go to another instance).
        if (r.result !== "ok") return;
      }
    };
    const agents = [0, 1, 2].map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    const h2 = createGrpcTransport({ baseUrl });
    const h2Users = createClient(UserService, h2);
    const h2Health = createClient(Health, h2);
    const grpcJs = grpcClient(`127.0.0.1:${port}`);
    const wrap = async (p: Promise<unknown>, codeOf: (e: unknown) => string) => p.then(() => ({ result: "ok" }), (e: unknown) => ({ result: codeOf(e) }));
    const loops = [
      loop("h1-login-a", () => h1Call(agents[0]!, port, "/movierec.user.v1.UserService/Login", { login: logins[0], password })),
      loop("h1-login-b", () => h1Call(agents[1]!, port, "/movierec.user.v1.UserService/Login", { login: logins[1], password })),
      loop("h1-health", () => h1Call(agents[2]!, port, "/grpc.health.v1.Health/Check", { service: "" })),
      loop("h2-login-c", () => wrap(h2Users.login({ login: logins[2], password }), connectCode)),
      loop("h2-login-d", () => wrap(h2Users.login({ login: logins[3], password }), connectCode)),
      loop("h2-health", () => wrap(h2Health.check({ service: "" }), connectCode)),
      loop("grpcjs-health", () => wrap(grpcUnary(grpcJs, Health.method.check, { service: "" }), (e) => GRPC_NAMES[(e as grpc.ServiceError).code] ?? String(e))),
    ];
    await new Promise((r) => setTimeout(r, 1500)); // load running, connections kept alive
    const killedAt = performance.now();
    srv.child.kill("SIGTERM");
    const [exitCode] = (await once(srv.child, "exit")) as [number];
    const exitedAt = performance.now();
    stopped = true;
    await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 5000))]);
    grpcJs.close();
    for (const a of agents) a.destroy();

    const summary = (o: Outcome) => `${o.client} ${o.result} start ${(o.start - killedAt).toFixed(0)}ms end ${(o.end - killedAt).toFixed(0)}ms`;
    const bad = outcomes.filter((o) => !["ok", "unavailable", "ECONNREFUSED"].includes(o.result));
    expect(bad.map(summary), srv.stderr()).toEqual([]);
    expect(exitCode).toBe(0);
    // Nothing had to be cut at the end of the grace period.
    expect(exitedAt - killedAt).toBeLessThan(GRACE_MS - 2000);

    // In flight at the signal (sent well before it, finished after it): every one finished OK.
    const inFlight = outcomes.filter((o) => o.start < killedAt - 30 && o.end > killedAt);
    expect(inFlight.length).toBeGreaterThan(0);
    expect(inFlight.filter((o) => o.result !== "ok").map(summary)).toEqual([]);
    // New calls after the server saw the signal are refused, not served for the whole grace period.
    const lateOk = outcomes.filter((o) => o.start > killedAt + 300 && o.result === "ok");
    expect(lateOk.map(summary)).toEqual([]);
    // Every client, whatever its protocol, saw the refusal (UNAVAILABLE, or the port closed).
    for (const name of new Set(outcomes.map((o) => o.client))) {
      const last = outcomes.filter((o) => o.client === name).at(-1)!;
      expect(["unavailable", "ECONNREFUSED"], summary(last)).toContain(last.result);
    }
    // An HTTP/1.1 keep-alive client told UNAVAILABLE was also told to close its connection.
    const h1Refusals = outcomes.filter((o) => o.client.startsWith("h1") && o.result === "unavailable");
    expect(h1Refusals.length).toBeGreaterThan(0);
    expect(h1Refusals.every((o) => o.connectionClose)).toBe(true);
    console.log(
      `SIGTERM under load: ${outcomes.length} calls, ${inFlight.length} in flight at the signal (all OK), ` +
        `${outcomes.filter((o) => o.result === "unavailable").length} UNAVAILABLE, exit after ${(exitedAt - killedAt).toFixed(0)} ms`,
    );
  }, 60_000);
});
