/**
 * A local Redis Cluster for tests (tests/faults/redis-cluster.test.ts, `npm run test:redis-cluster`, `npm run
 * test:scale`): 3 masters and 3 replicas (`redis-server --cluster-enabled yes` on free ports of
 * 127.0.0.1, then `redis-cli --cluster create … --cluster-replicas 1`), persistence off, a 1 s node timeout so a
 * killed master's replica takes over quickly. Never the shared Redis.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { freePort } from "./dev-infra-process.ts";
import { findOrInstallRedisServer } from "./dev-infra-redis.ts";

export interface RedisClusterNodes {
  /** `redis+cluster://127.0.0.1:p1,…` naming the three masters as seeds. */
  readonly url: string;
  readonly ports: readonly number[];
  /** The port of the master that holds `key`'s slot now. */
  masterOf(key: string): Promise<number>;
  /** SIGKILLs the node on `port` (a crash). */
  kill(port: number): Promise<void>;
  /** Resolves once the cluster says `cluster_state:ok` and `port`'s slots have another master. */
  failedOver(key: string, oldPort: number, timeoutMs?: number): Promise<number>;
  destroy(): Promise<void>;
}

async function ask<T>(port: number, f: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  r.on("error", () => {});
  try {
    await r.connect();
    return await f(r);
  } finally {
    r.disconnect();
  }
}

export async function startRedisCluster(): Promise<RedisClusterNodes> {
  const server = findOrInstallRedisServer(() => {});
  const cli = [join(dirname(server), "redis-cli"), "/usr/bin/redis-cli"].find((p) => existsSync(p));
  if (!cli) throw new Error("redis-cli not found next to redis-server");
  const dir = await mkdtemp(join(tmpdir(), "movierec-redis-cluster-"));
  const ports: number[] = [];
  for (let k = 0; k < 6; k++) ports.push(await freePort());
  const children = new Map<number, ChildProcess>();
  const killAll = () => children.forEach((c) => c.kill("SIGKILL"));
  process.once("exit", killAll);
  for (const port of ports) {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`), "--cluster-node-timeout", "1000", "--cluster-replica-validity-factor", "0", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", join(dir, `redis-${port}.log`)];
    children.set(port, spawn(server, args, { stdio: "ignore" }));
  }
  for (const port of ports) {
    for (const until = Date.now() + 20_000; ; await sleep(50)) {
      if ((await ask(port, (r) => r.ping()).catch(() => "")) === "PONG") break;
      if (Date.now() > until) throw new Error(`redis-server on ${port} did not start`);
    }
  }
  const created = spawnSync(cli, ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "1", "--cluster-yes"], { encoding: "utf8", timeout: 60_000 });
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stderr || created.stdout}`);
  const stateOk = async (port: number) => (await ask(port, (r) => r.cluster("INFO")).catch(() => "")).includes("cluster_state:ok");
  for (const until = Date.now() + 30_000; !(await Promise.all(ports.map(stateOk))).every(Boolean); await sleep(100)) {
    if (Date.now() > until) throw new Error("the cluster did not reach cluster_state:ok");
  }
  const alive = () => ports.filter((p) => children.get(p)?.exitCode === null && children.get(p)?.signalCode === null);
  const masterOf = async (key: string): Promise<number> => {
    for (const port of alive()) {
      try {
        return await ask(port, async (r) => {
          const slot = (await r.cluster("KEYSLOT", key)) as number;
          const slots = (await r.cluster("SLOTS")) as unknown as [number, number, [string, number, string]][];
          const range = slots.find(([from, to]) => slot >= from && slot <= to);
          if (!range) throw new Error(`slot ${slot} is not served`);
          return range[2][1];
        });
      } catch {
        // that node is down or not ready: ask another
      }
    }
    throw new Error("no node answers CLUSTER SLOTS");
  };
  return {
    url: `redis+cluster://${ports.slice(0, 3).map((p) => `127.0.0.1:${p}`).join(",")}`,
    ports,
    masterOf,
    async kill(port) {
      const c = children.get(port);
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const gone = new Promise((r) => c.once("exit", r));
      c.kill("SIGKILL");
      await gone;
    },
    async failedOver(key, oldPort, timeoutMs = 60_000) {
      for (const until = Date.now() + timeoutMs; ; await sleep(100)) {
        const port = await masterOf(key).catch(() => oldPort);
        if (port !== oldPort && (await stateOk(port))) return port;
        if (Date.now() > until) {
          const views = await Promise.all(alive().map((p) => ask(p, (r) => r.cluster("NODES")).then((n) => `:${p} sees\n${String(n)}`, (e: Error) => `:${p} ${e.message}`)));
          throw new Error(`no failover of ${key}'s slot within ${timeoutMs} ms\n${views.join("\n")}`);
        }
      }
    },
    async destroy() {
      killAll();
      await Promise.all([...children.values()].map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once("exit", r)))));
      process.removeListener("exit", killAll);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
