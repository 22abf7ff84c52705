/**
 * Small process and network helpers shared by the local-infrastructure bootstrap
 * (embedded PostgreSQL, private redis-server). Development tooling only.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** Asks the kernel for a currently free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("could not allocate a free port"))));
    });
  });
}

/** True when a process with this pid exists (signal 0 only checks). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM means it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The command line of a live process (Linux /proc), or "" when unknown. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Polls until `pid` is gone; false if it is still alive after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

/** Absolute path of an executable found through the shell's PATH lookup, or undefined. */
export function whichSync(command: string): string | undefined {
  // `command -v` through sh instead of walking PATH ourselves: only platform/config reads the environment.
  const res = spawnSync("sh", ["-c", 'command -v "$1"', "sh", command], { encoding: "utf8" });
  const found = res.status === 0 ? res.stdout.trim() : "";
  return found.startsWith("/") ? found : undefined;
}

/** True when this process runs as root (uid 0); always false where uids do not exist. */
export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** Keeps the last `max` lines a child printed, to explain a failed start without flooding the console. */
export class OutputTail {
  readonly #lines: string[] = [];
  readonly #max: number;
  constructor(max = 40) {
    this.#max = max;
  }
  push(chunk: string): void {
    for (const line of chunk.split(/\r?\n/)) {
      if (line.trim() === "") continue;
      this.#lines.push(line);
      if (this.#lines.length > this.#max) this.#lines.shift();
    }
  }
  toString(): string {
    return this.#lines.join("\n");
  }
}

/**
 * A server started in a process group of its own (embedded PostgreSQL, redis-server) does not die with us when we
 * are killed hard (SIGKILL gives no chance to stop it), so a tiny detached shell waits for our pid to disappear
 * and then sends `signal` to the server. `cancel()` (called by a normal stop) ends the watcher first.
 */
export function stopWhenOwnerDies(targetPid: number, signal: "INT" | "TERM"): { cancel(): void } {
  const script = `while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -${signal} "$2" 2>/dev/null`;
  const watcher = spawn("sh", ["-c", script, "watch", String(process.pid), String(targetPid)], { detached: true, stdio: "ignore" });
  watcher.on("error", () => undefined); // no sh: nothing to guard with, the next run's stale-process check remains
  watcher.unref();
  return {
    cancel() {
      if (watcher.exitCode === null && watcher.signalCode === null) watcher.kill("SIGKILL");
    },
  };
}

/** Fails with a clear message when something already listens on 127.0.0.1:port (a port the user chose). */
export async function assertPortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === "EADDRINUSE" ? `${what}: port ${port} is already in use; choose another one` : `${what}: port ${port}: ${err.message}`)),
    );
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
  });
}
