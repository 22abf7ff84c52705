/**
 * `serve` with SERVER_PROCESSES=2 (node:cluster): both processes answer on one port, /metrics adds up what both
 * served, a process that dies is replaced while the other keeps serving, and SIGTERM stops everything with exit 0.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

let s: ServerProcess;
beforeAll(async () => {
  s = await startServerProcess({ SERVER_PROCESSES: "2", DB_POOL_MAX: "2" }, "all processes started");
});
afterAll(async () => {
  if (s && s.child.exitCode === null) await s.stop();
});

/** One health check on a connection of its own (so the primary's round robin spreads them). */
async function check(): Promise<Status> {
  return (await createClient(Health, createGrpcTransport({ baseUrl: s.baseUrl })).check({ service: "" }, { timeoutMs: 20_000 })).status;
}
async function until(what: string, ok: () => boolean, ms = 90_000) {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);

describe("SERVER_PROCESSES=2", () => {
  it("serves from two processes on one port, and /metrics counts the calls of both", async () => {
    const started = s.lines.find((l) => l.msg === "all processes started") as { pids: number[] };
    expect(started.pids).toHaveLength(2);
    const listening = s.lines.filter((l) => String(l.msg).startsWith("listening"));
    expect(new Set(listening.map((l) => l.pid))).toEqual(new Set(started.pids));
    expect(new Set(listening.map((l) => l.port))).toEqual(new Set([s.port]));
    const before = await (await fetch(`${s.baseUrl}/metrics`)).text();
    const count = (t: string) => metric(t, 'movierec_rpc_duration_seconds_count\\{method="/grpc.health.v1.Health/Check",code="ok"\\}') || 0;
    for (let i = 0; i < 8; i++) expect(await check()).toBe(Status.SERVING);
    const after = await (await fetch(`${s.baseUrl}/metrics`)).text();
    expect(count(after) - count(before)).toBe(8);
    // Each process's pool is reported, summed: 2 processes × DB_POOL_MAX 2.
    expect(metric(after, 'movierec_db_pool_connections\\{state="max"\\}')).toBe(4);
    // Read from Redis once, not once per process.
    expect(after.split("\n").filter((l) => l.startsWith("movierec_cache_hit_ratio"))).toHaveLength(1);
  });

  it("replaces a process that dies; the other keeps serving meanwhile", async () => {
    const started = s.lines.find((l) => l.msg === "all processes started") as { pids: number[] };
    process.kill(started.pids[0]!, "SIGKILL");
    // A connection handed to the process in the instant it dies is lost (clients retry); after the primary noticed, none is.
    await until("the primary to notice", () => s.lines.some((l) => l.msg === "a server process died; starting another"));
    for (let i = 0; i < 4; i++) expect(await check()).toBe(Status.SERVING);
    await until("a replacement", () => s.lines.some((l) => String(l.msg).startsWith("listening") && !started.pids.includes(l.pid as number)));
    expect(await check()).toBe(Status.SERVING);
  }, 120_000);

  it("SIGTERM stops every process and exits 0", async () => {
    const pids = [...new Set(s.lines.filter((l) => String(l.msg).startsWith("listening")).map((l) => l.pid as number))];
    expect(await s.stop()).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe("WORKER_PROCESSES=2", () => {
  it("starts two worker processes and stops both on SIGTERM with exit 0", async () => {
    const child = spawn(process.execPath, ["src/main.ts", "worker"], {
      env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", WORKER_PROCESSES: "2", DATABASE_URL: inject("databaseUrl"), REDIS_URL: inject("redisUrl"), REDIS_PREFIX: inject("redisPrefix") },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = once(child, "exit");
    let pids: number[] = [];
    let workersStarted = 0;
    for await (const line of createInterface({ input: child.stdout! })) {
      const entry = JSON.parse(line) as { msg?: string; pids?: number[] };
      if (entry.msg === "workers started") workersStarted++;
      if (entry.msg === "all processes started") {
        pids = entry.pids!;
        break;
      }
    }
    expect(pids).toHaveLength(2);
    expect(workersStarted).toBe(2);
    child.kill("SIGTERM");
    const [code] = await exited;
    expect(code).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  }, 120_000);
});
