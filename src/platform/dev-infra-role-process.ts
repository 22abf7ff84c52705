/**
 * A real role of the app (`node src/main.ts worker`, as `npm run worker` runs it, or `serve`) in a child process
 * configured by environment, with its JSON log lines collected so the caller (fault tests, `npm run test:scale`)
 * can wait for one. The caller SIGKILLs or SIGTERMs it. An IPC channel is the child's lifeline: main.ts shuts down
 * when it closes, so a child does not outlive its starter even when that is killed hard.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Parsed JSON log lines so far. */
  readonly lines: Record<string, unknown>[];
  /** Resolves with the first log line (past or future) for which `match` holds. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(signal: "SIGKILL" | "SIGTERM"): Promise<void>;
}

export function exited(c: ChildProcess): Promise<void> {
  return new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once("exit", () => resolve())));
}

/** Starts `node src/main.ts <role>` (default `worker`) with `env` (plus PATH, LOG_LEVEL=info, one process per role). */
export function startWorkerProcess(env: Record<string, string>, role: "worker" | "serve" = "worker"): WorkerProcess {
  // One process (WORKER_PROCESSES/SERVER_PROCESSES default to the cores): a SIGKILL here must kill the one doing the work.
  const child = spawn(process.execPath, [MAIN, role], { env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", WORKER_PROCESSES: "1", SERVER_PROCESSES: "1", ...env }, stdio: ["ignore", "pipe", "pipe", "ipc"] });
  // The channel is only a lifeline: it must not keep the starter alive.
  child.channel?.unref();
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let partial = "";
  child.stdout!.on("data", (d: Buffer) => {
    partial += d.toString("utf8");
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p) as Record<string, unknown>);
      } catch {
        lines.push({ msg: p });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr!.on("data", (d: Buffer) => lines.push({ stderr: d.toString("utf8") }));
  const kill = async (signal: "SIGKILL" | "SIGTERM") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited(child);
  };
  process.once("exit", () => child.kill("SIGKILL"));
  return {
    child,
    lines,
    kill,
    waitForLog(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const look = () => {
          const found = lines.find(match);
          if (!found) return false;
          waiters.delete(look);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(look);
          reject(new Error(`${role} log line not seen in ${timeoutMs} ms; last lines:\n${lines.slice(-15).map((l) => JSON.stringify(l)).join("\n")}`));
        }, timeoutMs);
        if (!look()) waiters.add(look);
      });
    },
  };
}
