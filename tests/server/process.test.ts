import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { describe, expect, inject, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";

// `npm start` runs exactly this: the real entry point in its own process.
function spawnMain(role: string, env: Record<string, string>) {
  return spawn(process.execPath, ["src/main.ts", role], {
    // One process each: the cluster of SERVER_PROCESSES/WORKER_PROCESSES (default: cores) has its own test (cluster.test.ts).
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", SERVER_PROCESSES: "1", WORKER_PROCESSES: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

describe("the server process", () => {
  it("starts, serves, and exits 0 on SIGTERM", async () => {
    const child = spawnMain("serve", { DATABASE_URL: inject("databaseUrl"), REDIS_URL: inject("redisUrl"), PORT: "0", HOST: "127.0.0.1" });
    const lines = createInterface({ input: child.stdout! });
    let port = 0;
    for await (const line of lines) {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg?.startsWith("listening")) {
        port = entry.port!;
        break;
      }
    }
    expect(port).toBeGreaterThan(0);
    const client = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
    expect((await client.check({ service: "" })).status).toBe(Status.SERVING);
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  });

  it("refuses to start with a bad configuration, naming each bad variable", async () => {
    const child = spawnMain("serve", { PORT: "eighty", DATABASE_URL: "nope" });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const [code] = await once(child, "exit");
    expect(code).toBe(2);
    expect(stderr).toContain("PORT");
    expect(stderr).toContain("DATABASE_URL");
  });

  it("runs the worker and stops it cleanly on SIGTERM", async () => {
    const child = spawnMain("worker", { DATABASE_URL: inject("databaseUrl"), REDIS_URL: inject("redisUrl"), REDIS_PREFIX: inject("redisPrefix") });
    const lines = createInterface({ input: child.stdout! });
    for await (const line of lines) if ((JSON.parse(line) as { msg?: string }).msg === "workers started") break;
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  });
});
