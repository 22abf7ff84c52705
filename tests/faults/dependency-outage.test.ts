/**
 * Issue 11, row 11: Redis down, then PostgreSQL down, under the real server and worker processes (`node src/main.ts
 * serve|worker`), each dependency a private one the test stops (never the shared ones).
 *
 * What must hold:
 * - with Redis down, Login, RefreshRecommendations and StartTraining answer UNAVAILABLE (retryable, as gRPC clients
 *   expect), not INTERNAL; with PostgreSQL down, anonymous calls (Login, SearchMovies, ListMovies, GetMovie) do too;
 * - once the dependency is back, the same calls answer OK, without restarting anything;
 * - the logs say so once: one structured line per state change (down, up) per dependency and process, not one per
 *   retry or per failed call; nothing on stderr (no raw multi-line ECONNREFUSED dumps). Access-log lines (one per
 *   call, `msg: "rpc"`) are not counted: they are per call by design.
 * - the recovery times are printed with the machine's load.
 */
import { loadavg } from "node:os";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import type { TestDatabase } from "../support/database.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";
import { startPrivateRedis, type PrivateRedis } from "./support/private-redis.ts";
import { startPrivatePostgres, type PrivatePostgres } from "./support/private-postgres.ts";
import { startWorkerProcess, type WorkerProcess } from "../../src/platform/dev-infra-role-process.ts";
import { createMigratedDatabase, waitUntil } from "./support/own-database.ts";

let redis: PrivateRedis;
let pg: PrivatePostgres;
let db: TestDatabase;
let setup: TestServer;
let server: WorkerProcess;
let worker: WorkerProcess;
let baseUrl: string;
let staff: TestUser;

beforeAll(async () => {
  [redis, pg] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
  db = await createMigratedDatabase(pg.serverUrl);
  const env = {
    NODE_ENV: "test",
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    REDIS_PREFIX: `${inject("redisPrefix")}f11`,
    DB_POOL_MAX: "4",
    HOST: "127.0.0.1",
    PORT: "0",
    HEALTH_INTERVAL_MS: "500",
  };
  // In-process deps only to create the accounts; the calls go to the server process, whose logs are read.
  setup = await startTestServer({ env });
  staff = await createTestUser(setup.deps, { staff: true, prefix: "f11" });
  server = startWorkerProcess(env, "serve");
  worker = startWorkerProcess(env);
  const listening = await server.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("listening") && typeof l.port === "number", 60_000);
  baseUrl = `http://127.0.0.1:${String(listening.port)}`;
  await worker.waitForLog((l) => l.msg === "workers started", 60_000);
}, 180_000);
afterAll(async () => {
  await Promise.all([worker?.kill("SIGKILL"), server?.kill("SIGKILL")]);
  // A failed test may have left one stopped; the in-process deps close cleanly only against running ones.
  await Promise.all([redis && !redis.running ? redis.start() : undefined, pg && !pg.running ? pg.start() : undefined]);
  await setup?.close();
  await db?.drop().catch(() => undefined);
  await Promise.all([redis?.destroy(), pg?.destroy()]);
});

const codeOf = (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof ConnectError ? Code[e.code] : `not a ConnectError: ${String(e)}`));

/** Log lines other than access-log lines, at warn or above, plus anything on stderr, from line `from` on. */
function noise(p: WorkerProcess, from: number): Record<string, unknown>[] {
  return p.lines.slice(from).filter((l) => l.stderr !== undefined || (l.msg !== "rpc" && typeof l.level === "number" && l.level >= 40));
}
const show = (lines: Record<string, unknown>[]) => lines.slice(0, 12).map((l) => JSON.stringify(l).slice(0, 400)).join("\n");

function stateLines(p: WorkerProcess, from: number, dependency: string): string[] {
  return p.lines.slice(from).filter((l) => l.dependency === dependency).map((l) => String(l.state));
}

describe("a dependency down, then back", () => {
  it("Redis: UNAVAILABLE while down, OK after, one log line per state change", async () => {
    const transport = createConnectTransport({ baseUrl, httpVersion: "1.1" });
    const user = createClient(UserService, transport);
    const recs = createClient(RecommendationService, transport);
    const calls = () => ({
      Login: codeOf(user.login({ login: staff.username, password: staff.password })),
      RefreshRecommendations: codeOf(recs.refreshRecommendations({}, { headers: staff.headers })),
      StartTraining: codeOf(recs.startTraining({ requestId: `f11-${Date.now()}` }, { headers: staff.headers })),
    });
    const all = async (c: Record<string, Promise<string>>) => Object.fromEntries(await Promise.all(Object.entries(c).map(async ([k, v]) => [k, await v])));
    expect(await all(calls())).toMatchObject({ Login: "OK", RefreshRecommendations: "OK", StartTraining: "OK" });

    const [serverFrom, workerFrom] = [server.lines.length, worker.lines.length];
    await redis.stop("SIGKILL");
    const down = performance.now();
    // Several rounds over ~4 s: each retry of each client must not add a log line.
    let during: Record<string, string> = {};
    for (let i = 0; i < 8; i++) {
      during = await all(calls());
      expect(during, `round ${i}`).toEqual({ Login: "Unavailable", RefreshRecommendations: "Unavailable", StartTraining: "Unavailable" });
      await new Promise((r) => setTimeout(r, 500));
    }
    const outageMs = Math.round(performance.now() - down);
    await redis.start();
    const back = performance.now();
    const okMs = await waitUntil(
      "Login, RefreshRecommendations, StartTraining OK again",
      async () => (Object.values(await all(calls())).every((c) => c === "OK") ? Math.round(performance.now() - back) : undefined),
      30_000,
      100,
      async () => `last codes: ${JSON.stringify(await all(calls()))}`,
    );
    await new Promise((r) => setTimeout(r, 1500)); // the worker's reconnection lines, if any, arrive
    for (const [name, p, from] of [["server", server, serverFrom], ["worker", worker, workerFrom]] as const) {
      const lines = noise(p, from);
      expect(lines.filter((l) => l.stderr !== undefined), `${name} stderr:\n${show(lines)}`).toEqual([]);
      expect(lines.length, `${name} logged ${lines.length} warn/error lines for one ${outageMs} ms Redis outage:\n${show(lines)}`).toBeLessThanOrEqual(3);
      expect(stateLines(p, from, "redis"), `${name} redis state lines`).toEqual(["down", "up"]);
    }
    if (process.env.FAULT_SHOW_LOGS) console.log(show(noise(server, serverFrom)), "\n--\n", show(noise(worker, workerFrom)));
    console.log(`[fault] Redis down ${outageMs} ms: calls answered UNAVAILABLE; restarted: all three OK after ${okMs} ms; server logged ${noise(server, serverFrom).length}, worker ${noise(worker, workerFrom).length} warn/error lines (load ${loadavg().map((l) => l.toFixed(2)).join(" ")})`);
  }, 120_000);

  it("PostgreSQL: anonymous calls UNAVAILABLE while down, OK after, one log line per state change", async () => {
    const transport = createConnectTransport({ baseUrl, httpVersion: "1.1" });
    const user = createClient(UserService, transport);
    const catalog = createClient(CatalogService, transport);
    let n = 0;
    // Fresh queries and page sizes, so no answer comes from the catalogue cache.
    const calls = () => {
      n++;
      return {
        Login: codeOf(user.login({ login: staff.username, password: staff.password })),
        SearchMovies: codeOf(catalog.searchMovies({ query: `outage${n}`, pageSize: 3 })),
        ListMovies: codeOf(catalog.listMovies({ pageSize: 10 + n })),
        GetMovie: codeOf(catalog.getMovie({ lookup: { case: "id", value: String(1000 + n) } }).catch((e: unknown) => { if (e instanceof ConnectError && e.code === Code.NotFound) return; throw e; })),
      };
    };
    const all = async (c: Record<string, Promise<string>>) => Object.fromEntries(await Promise.all(Object.entries(c).map(async ([k, v]) => [k, await v])));
    expect(await all(calls())).toEqual({ Login: "OK", SearchMovies: "OK", ListMovies: "OK", GetMovie: "OK" });

    const [serverFrom, workerFrom] = [server.lines.length, worker.lines.length];
    await pg.stop("fast");
    const down = performance.now();
    for (let i = 0; i < 8; i++) {
      expect(await all(calls()), `round ${i}`).toEqual({ Login: "Unavailable", SearchMovies: "Unavailable", ListMovies: "Unavailable", GetMovie: "Unavailable" });
      await new Promise((r) => setTimeout(r, 500));
    }
    const outageMs = Math.round(performance.now() - down);
    await pg.start();
    const back = performance.now();
    const okMs = await waitUntil(
      "the anonymous calls OK again",
      async () => (Object.values(await all(calls())).every((c) => c === "OK") ? Math.round(performance.now() - back) : undefined),
      30_000,
      100,
      async () => `last codes: ${JSON.stringify(await all(calls()))}`,
    );
    await new Promise((r) => setTimeout(r, 1500));
    for (const [name, p, from] of [["server", server, serverFrom], ["worker", worker, workerFrom]] as const) {
      const lines = noise(p, from);
      expect(lines.filter((l) => l.stderr !== undefined), `${name} stderr:\n${show(lines)}`).toEqual([]);
      expect(lines.length, `${name} logged ${lines.length} warn/error lines for one ${outageMs} ms PostgreSQL outage:\n${show(lines)}`).toBeLessThanOrEqual(3);
    }
    // The server used PostgreSQL during the outage: it says so once, and once when it is back.
    expect(stateLines(server, serverFrom, "postgres")).toEqual(["down", "up"]);
    if (process.env.FAULT_SHOW_LOGS) console.log(show(noise(server, serverFrom)), "\n--\n", show(noise(worker, workerFrom)));
    console.log(`[fault] PostgreSQL down ${outageMs} ms: anonymous calls answered UNAVAILABLE; restarted: all OK after ${okMs} ms; server logged ${noise(server, serverFrom).length}, worker ${noise(worker, workerFrom).length} warn/error lines (load ${loadavg().map((l) => l.toFixed(2)).join(" ")})`);
  }, 120_000);
});
