/**
 * `npm run test:redis-cluster [-- vitest args]`: the regular test suite against a local Redis Cluster (3 masters +
 * 3 replicas, src/platform/dev-infra-redis-cluster.ts) instead of one Redis. Every test reaches Redis through
 * REDIS_URL (tests/support/global-setup.ts provides it; clients come from createRedis/createQueues, which open a
 * Cluster for a `redis+cluster://` URL), so a command, MULTI, pipeline or Lua script whose keys cross slots fails
 * here with CROSSSLOT. PostgreSQL is the usual one. The cluster is removed at the end, also on Ctrl-C.
 * Prints the files and tests that passed, the time and the load average.
 */
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { startRedisCluster } from "../../src/platform/dev-infra-redis-cluster.ts";

/**
 * Test files left out, and why. Each needs a standalone Redis by nature; they still pass in the regular run.
 */
export const EXCLUDED_ON_CLUSTER: Readonly<Record<string, string>> = {
  // None: the files that need a standalone Redis (restarted, paused, stopped) start a private one of their own.
};

const vitest = fileURLToPath(new URL("../../node_modules/vitest/vitest.mjs", import.meta.url));
const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");

const started = performance.now();
const loadBefore = load();
console.log(`[redis-cluster suite] starting a local Redis Cluster (3 masters + 3 replicas); load average ${loadBefore}`);
const cluster = await startRedisCluster();
console.log(`[redis-cluster suite] REDIS_URL=${cluster.url}`);
let destroyed = false;
const destroy = async () => {
  if (destroyed) return;
  destroyed = true;
  await cluster.destroy();
};

const args = ["run", ...Object.keys(EXCLUDED_ON_CLUSTER).flatMap((f) => ["--exclude", f]), ...process.argv.slice(2)];
const child = spawn(process.execPath, [vitest, ...args], { stdio: "inherit", env: { ...process.env, REDIS_URL: cluster.url } });
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
const code = await new Promise<number>((resolve) => child.on("exit", (c, s) => resolve(c ?? (s ? 1 : 0))));
await destroy();
const seconds = Math.round((performance.now() - started) / 1000);
console.log(`[redis-cluster suite] vitest exited ${code} after ${Math.floor(seconds / 60)} min ${seconds % 60} s; load average before ${loadBefore}, after ${load()}`);
for (const [file, why] of Object.entries(EXCLUDED_ON_CLUSTER)) console.log(`[redis-cluster suite] excluded ${file}: ${why}`);
process.exit(code);
