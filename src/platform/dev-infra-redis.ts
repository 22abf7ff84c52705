/**
 * Redis for local development: probing a server, locating (or, as root on
 * Debian/Ubuntu, installing) `redis-server`, and running a private, non-persistent
 * instance as a child process.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { createCluster, isClusterUrl } from "./redis.ts";
import { assertPortFree, commandLine, freePort, isAlive, isRoot, OutputTail, stopWhenOwnerDies, waitForExit, whichSync } from "./dev-infra-process.ts";

/** Connects once and sends PING; returns undefined when Redis answers, else why not. Never throws. */
export async function probeRedis(url: string, timeoutMs = 2000): Promise<string | undefined> {
  if (isClusterUrl(url)) return probeCluster(url, timeoutMs);
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // Without a listener a refused connection is reported as an unhandled 'error' event.
  client.on("error", () => {});
  try {
    await client.connect();
    const pong = await client.ping();
    return pong === "PONG" ? undefined : `unexpected reply to PING: ${pong}`;
  } catch (err) {
    return err instanceof Error ? err.message || String(err) : String(err);
  } finally {
    client.disconnect();
  }
}

/** A cluster answers when a client reaches `ready` (slots discovered) and a PING to one of its nodes succeeds. */
async function probeCluster(url: string, timeoutMs: number): Promise<string | undefined> {
  const client = createCluster(url, { name: "movierec-probe" });
  let failure = "";
  client.on("error", (err: Error) => (failure = err.message));
  let timer: NodeJS.Timeout | undefined;
  try {
    const ready = new Promise<void>((resolve) => client.once("ready", () => resolve()));
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    if ((await Promise.race([ready, timeout])) === "timeout") return `the cluster was not ready within ${timeoutMs} ms${failure ? ` (${failure})` : ""}`;
    const pong = await client.ping();
    return pong === "PONG" ? undefined : `unexpected reply to PING: ${pong}`;
  } catch (err) {
    return err instanceof Error ? err.message || String(err) : String(err);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/**
 * Path of `redis-server`. When it is missing and we are root on a machine with
 * apt-get, installs Debian's `redis-server` package (saying so); otherwise throws
 * an error naming exactly what to install.
 */
export function findOrInstallRedisServer(log: (msg: string) => void): string {
  const found = whichSync("redis-server");
  if (found) return found;
  const howTo =
    "redis-server is not installed. Install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`; " +
    "macOS: `brew install redis`) or point the demo at a running Redis with --redis-url.";
  if (!isRoot() || !whichSync("apt-get")) throw new Error(howTo);

  // `env` sets DEBIAN_FRONTEND for apt without this module reading the environment.
  const aptInstall = ["env", ["DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--no-install-recommends", "redis-server"]] as const;
  log("redis-server not found; running: apt-get install -y --no-install-recommends redis-server");
  let res = spawnSync(aptInstall[0], aptInstall[1], { stdio: "inherit" });
  if (res.status !== 0) {
    // A fresh machine often has empty package lists.
    log("apt-get install failed; running: apt-get update, then retrying");
    spawnSync("apt-get", ["update"], { stdio: "inherit" });
    res = spawnSync(aptInstall[0], aptInstall[1], { stdio: "inherit" });
  }
  const installed = whichSync("redis-server") ?? (res.status === 0 ? "/usr/bin/redis-server" : undefined);
  if (!installed) throw new Error(`apt-get could not install redis-server. ${howTo}`);
  return installed;
}

/** A running private redis-server. */
export interface RedisServerHandle {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `binary` on a free port of 127.0.0.1 with persistence off (nothing is
 * written to disk but a pid file in `dir`) and waits until it answers PING.
 */
export async function startRedisServer(opts: { binary: string; dir: string; log: (msg: string) => void; port?: number | undefined }): Promise<RedisServerHandle> {
  const { binary, dir, log } = opts;
  await mkdir(dir, { recursive: true });
  const pidFile = join(dir, "redis-server.pid");
  await stopStaleRedis(pidFile, log);

  if (opts.port !== undefined) await assertPortFree(opts.port, "redis-server");
  const port = opts.port ?? (await freePort());
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir, "--pidfile", pidFile];
  // A process group of its own: Ctrl-C in a terminal must not take Redis down before the
  // server and worker using it have shut down; stop() ends it last.
  const child = spawn(binary, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const output = new OutputTail();
  // Drained continuously: a full pipe would block redis-server.
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      resolve();
    });
    child.once("error", (err) => {
      output.push(err.message);
      exitCode = -1;
      resolve();
    });
  });
  // If our process ends without stop(), do not leave redis-server behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  // …and not when we are killed hard either.
  const guard = child.pid !== undefined ? stopWhenOwnerDies(child.pid, "TERM") : { cancel() {} };

  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  let lastProblem: string | undefined = "not started";
  while (Date.now() < deadline && exitCode === undefined) {
    lastProblem = await probeRedis(url, 500);
    if (lastProblem === undefined) break;
    await sleep(100);
  }
  if (lastProblem !== undefined) {
    process.removeListener("exit", killOnExit);
    guard.cancel();
    child.kill("SIGKILL");
    const why = exitCode !== undefined ? `exited with code ${exitCode}` : `did not answer PING within 15 s (${lastProblem})`;
    throw new Error(`redis-server (${binary}) ${why}\n${output}`);
  }

  let stopped = false;
  return {
    url,
    port,
    pid: child.pid ?? -1,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener("exit", killOnExit);
      guard.cancel();
      if (exitCode === undefined) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(pidFile, { force: true });
    },
  };
}

/** A redis-server left running by a run that was killed hard; only a real redis-server is stopped. */
async function stopStaleRedis(pidFile: string, log: (msg: string) => void): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt(await readFile(pidFile, "utf8"), 10);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !commandLine(pid).includes("redis-server")) return;
  log(`stopping a leftover redis-server (pid ${pid}) from an earlier run`);
  process.kill(pid, "SIGTERM");
  if (!(await waitForExit(pid, 5_000))) process.kill(pid, "SIGKILL");
}
