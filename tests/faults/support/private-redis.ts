/**
 * A redis-server of the test's own, on a free port of 127.0.0.1, that the test may stop, kill and start again on
 * the same port. Persistence is off, so every start is empty, as after a restart that lost its data. Never the
 * shared Redis: fault tests stop this one only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../../../src/platform/dev-infra-process.ts";
import { findOrInstallRedisServer, probeRedis } from "../../../src/platform/dev-infra-redis.ts";

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** Whether the server is running now. */
  readonly running: boolean;
  /** SIGKILL (a crash: no goodbye to clients) or SIGTERM (a clean stop); resolves once the process is gone. */
  stop(signal?: "SIGKILL" | "SIGTERM"): Promise<void>;
  /** Starts it again, empty, on the same port; resolves once it answers PING. */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  destroy(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const binary = findOrInstallRedisServer(() => {});
  const dir = await mkdtemp(join(tmpdir(), "movierec-fault-redis-"));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const killOnExit = () => child?.kill("SIGKILL");
  process.once("exit", killOnExit);

  async function start(): Promise<void> {
    if (child) throw new Error("private redis is already running");
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", join(dir, "redis.log")];
    const proc = spawn(binary, args, { stdio: "ignore" });
    child = proc;
    proc.once("exit", () => {
      if (child === proc) child = undefined;
    });
    const until = Date.now() + 15_000;
    for (;;) {
      const problem = await probeRedis(url, 500);
      if (problem === undefined) return;
      if (Date.now() > until || !child) throw new Error(`private redis-server on port ${port} did not start: ${problem}`);
      await sleep(50);
    }
  }

  async function stop(signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): Promise<void> {
    const proc = child;
    if (!proc) return;
    const gone = new Promise<void>((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once("exit", () => r())));
    proc.kill(signal);
    await gone;
    child = undefined;
  }

  await start();
  return {
    url,
    port,
    get running() {
      return child !== undefined;
    },
    stop,
    start,
    async destroy() {
      await stop("SIGKILL");
      process.removeListener("exit", killOnExit);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
