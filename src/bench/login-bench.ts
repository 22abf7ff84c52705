/**
 * `npm run bench:login`: how many logins per second this machine sustains with the configured argon2id parameters.
 * 1. the KDF alone (verifications/s at several concurrencies: the libuv pool runs them on the cores);
 * 2. the whole Login RPC over Connect against a real server, PostgreSQL and Redis (a throw-away database).
 * Bounded: a fixed number of calls, loopback only, everything it creates is dropped at the end.
 * Options (env): BENCH_LOGINS (default 300), BENCH_CONCURRENCY (default 8), PASSWORD_MEMORY_KIB / PASSWORD_ITERATIONS.
 */
import { randomBytes } from "node:crypto";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { loadConfig } from "../platform/config.ts";
import { createLogger } from "../platform/logger.ts";
import { createPasswordHasher } from "../modules/user/index.ts";
import { closeAppDeps, dependencyProbes, openAppDeps } from "../server/app-deps.ts";
import { buildAuthenticator, buildImpls } from "../server/impls.ts";
import { startServer } from "../server/server.ts";
import { openBenchDatabase } from "./bench-database.ts";
import { loadLine, machineLine } from "./conditions.ts";
import { percentile, runLoad } from "./load.ts";

const LOGINS = Number(process.env.BENCH_LOGINS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

const pct = (xs: number[], p: number) => percentile(xs, p).toFixed(1);

async function main(): Promise<void> {
  const base = loadConfig({ ...process.env, NODE_ENV: "development", LOG_LEVEL: "silent" });
  const { passwordMemoryKib: m, passwordIterations: t } = base.auth;
  console.log(`${machineLine()}, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? "4 (default)"}`);
  // The client and the server share this one process (and its libuv pool): the Login figure includes the client's cost.
  console.log(`volume: ${LOGINS} Login calls at concurrency ${CONCURRENCY} (client and server in this one process), KDF rounds of 40-160 verifications`);
  console.log(`KDF: argon2id m=${m} KiB, t=${t}, p=1`);

  const hasher = createPasswordHasher({ memoryKib: m, iterations: t });
  const stored = await hasher.hash("bench-password-123");
  for (const c of [1, 2, 4]) {
    const n = Math.max(40, c * 40);
    const r = await runLoad(n, c, () => hasher.verify(stored, "bench-password-123"));
    console.log(`kdf verify   concurrency=${c}: ${((n / r.wallMs) * 1000).toFixed(1)} verifications/s, p50 ${pct(r.latencies, 50)} ms, p95 ${pct(r.latencies, 95)} ms`);
  }

  const db = await openBenchDatabase();
  try {
    const config = loadConfig({
      ...process.env,
      NODE_ENV: "development",
      DATABASE_URL: db.url,
      REDIS_URL: db.redisUrl,
      REDIS_PREFIX: `bench${randomBytes(4).toString("hex")}`,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "silent",
      // The bench logs in from one address, to one account, 8 at a time; the throttle (attempts are reserved while
      // they run) would otherwise stop it.
      LOGIN_MAX_FAILURES_PER_IP: "100000",
      LOGIN_MAX_FAILURES_PER_ACCOUNT: "1000",
    });
    const log = createLogger({ level: "silent" });
    const deps = await openAppDeps(config, log);
    const server = await startServer({ config, log, probes: dependencyProbes(deps), impls: buildImpls(deps), authenticate: buildAuthenticator(deps) });
    try {
      const client = createClient(UserService, createConnectTransport({ baseUrl: `http://127.0.0.1:${server.port}`, httpVersion: "2" }));
      const username = `bench_${randomBytes(4).toString("hex")}`;
      const password = "bench-password-123";
      await client.register({ username, email: `${username}@example.test`, password });
      await runLoad(20, 4, () => client.login({ login: username, password })); // warm-up
      const r = await runLoad(LOGINS, CONCURRENCY, () => client.login({ login: username, password }));
      console.log(
        `Login RPC    concurrency=${CONCURRENCY}: ${((LOGINS / r.wallMs) * 1000).toFixed(1)} logins/s over ${LOGINS} logins, p50 ${pct(r.latencies, 50)} ms, p95 ${pct(r.latencies, 95)} ms`,
      );
      console.log(`at the end: ${loadLine()}`);
    } finally {
      await server.close();
      await closeAppDeps(deps);
    }
  } finally {
    await db.drop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
