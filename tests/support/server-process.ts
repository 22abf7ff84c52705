/** `node src/main.ts <role>` in a child process against this run's PostgreSQL and Redis, as `npm start` runs it. */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { inject } from "vitest";

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  /** Log lines seen so far (JSON, parsed). */
  lines: Record<string, unknown>[];
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `serve` on a random port (or `env.PORT`), one process unless `env.SERVER_PROCESSES` says otherwise; resolves
 * once it logged `readyMsg` (default: "listening…", which a cluster's first copy logs before the others are up).
 */
export async function startServerProcess(env: Record<string, string> = {}, readyMsg = "listening"): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["src/main.ts", "serve"], {
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "test",
      LOG_LEVEL: "info",
      HOST: "127.0.0.1",
      PORT: "0",
      DATABASE_URL: inject("databaseUrl"),
      REDIS_URL: inject("redisUrl"),
      REDIS_PREFIX: inject("redisPrefix"),
      DB_POOL_MAX: "3",
      SERVER_PROCESSES: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: Record<string, unknown>[] = [];
  const exited = once(child, "exit");
  let port = 0;
  await new Promise<void>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      lines.push(entry);
      if (typeof entry.msg === "string" && entry.msg.startsWith("listening") && typeof entry.port === "number") port = entry.port;
      if (typeof entry.msg === "string" && entry.msg.startsWith(readyMsg) && port > 0) resolve();
    });
    void exited.then(([code]) => reject(new Error(`server exited with ${String(code)} before listening`)));
  });
  return {
    child,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    lines,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const [code] = await exited;
      return code as number | null;
    },
  };
}
