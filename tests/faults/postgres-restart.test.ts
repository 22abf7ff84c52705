/**
 * PostgreSQL connections refused and restored: a private cluster (never the shared one) stopped under a running
 * server that probes it for real (no stubbed probe), then started again on the same port.
 *
 * What must hold:
 * - grpc.health.v1 Check and List say NOT_SERVING (with `postgres` failing on /healthz) within a few health
 *   intervals of PostgreSQL going away, and SERVING again after it returns, without restarting the server;
 * - calls made while it is down answer UNAVAILABLE without leaking the driver's error (no ECONNREFUSED, SQL or stack in the
 *   message) and the process keeps answering; once it is back, the same call succeeds (the pool reconnects);
 * - the recovery time is printed with the machine's load.
 */
import { loadavg } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import type { TestDatabase } from "../support/database.ts";
import { startPrivatePostgres, type PrivatePostgres } from "./support/private-postgres.ts";
import { createMigratedDatabase, waitUntil } from "./support/own-database.ts";

const HEALTH_MS = 300;
let pg: PrivatePostgres;
let db: TestDatabase;
let ts: TestServer;

beforeAll(async () => {
  pg = await startPrivatePostgres();
  db = await createMigratedDatabase(pg.serverUrl);
  ts = await startTestServer({ env: { DATABASE_URL: db.url }, healthIntervalMs: HEALTH_MS });
});
afterAll(async () => {
  await ts?.close();
  await db?.drop().catch(() => undefined);
  await pg?.destroy();
});

describe("PostgreSQL refused and restored", () => {
  it("goes NOT_SERVING, answers calls without leaking the driver's error, and serves again once it is back", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: ts.baseUrl }));
    const catalog = createClient(CatalogService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
    expect((await health.check({ service: "" })).status).toBe(Status.SERVING);
    await catalog.listMovies({ pageSize: 5 });

    await pg.stop("fast"); // open sessions terminated, new connections refused
    const down = performance.now();
    const detectedMs = await waitUntil("NOT_SERVING", async () => ((await health.check({ service: "" })).status === Status.NOT_SERVING ? Math.round(performance.now() - down) : undefined), 10_000);
    expect(detectedMs).toBeLessThan(2000 + 4 * HEALTH_MS); // the probe's own 2 s timeout at most, plus a few intervals
    const list = await health.list({});
    expect(list.statuses["movierec.catalog.v1.CatalogService"]?.status).toBe(Status.NOT_SERVING);
    const healthz = await fetch(`${ts.baseUrl}/healthz`);
    expect(healthz.status).toBe(503);
    expect(await healthz.json()).toMatchObject({ status: "NOT_SERVING", failing: ["postgres"] });

    // A page the catalogue cache (Redis) has not seen: it must go to PostgreSQL.
    const outcome = await catalog.listMovies({ pageSize: 7 }).then(() => "answered OK", (e: unknown) => e);
    expect(outcome).toBeInstanceOf(ConnectError);
    const err = outcome as ConnectError;
    expect(err.rawMessage).not.toMatch(/ECONNREFUSED|connect|select |\bat .+:\d+:\d+/i);
    expect(Code[err.code]).toBe("Unavailable"); // retryable, as gRPC clients expect (issue 11, row 11)
    expect((await health.check({ service: "" })).status).toBe(Status.NOT_SERVING); // still answering

    await pg.start();
    const back = performance.now();
    const servingMs = await waitUntil("SERVING again", async () => ((await health.check({ service: "" })).status === Status.SERVING ? Math.round(performance.now() - back) : undefined), 20_000);
    const firstCallMs = await waitUntil("ListMovies answering again", () => catalog.listMovies({ pageSize: 5 }).then(() => Math.round(performance.now() - back)), 20_000, 100);
    expect((await health.list({})).statuses["movierec.catalog.v1.CatalogService"]?.status).toBe(Status.SERVING);
    console.log(
      `[fault] PostgreSQL stopped: NOT_SERVING after ${detectedMs} ms, calls answered ${Code[err.code]}; restarted: SERVING after ${servingMs} ms, ` +
        `first ListMovies OK after ${firstCallMs} ms (HEALTH_INTERVAL_MS=${HEALTH_MS}; load ${loadavg().map((l) => l.toFixed(2)).join(" ")})`,
    );
  }, 120_000);
});
