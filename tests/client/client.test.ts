/**
 * `movierec/client` against the real server over gRPC, Connect and gRPC-Web: service-token auth (sent as
 * `authorization: Bearer …`), deadlines, retries of UNAVAILABLE for read methods only; and the README's two
 * examples (examples/internal-service.ts with this client, examples/grpc-js-client.ts with @grpc/grpc-js) run
 * as their own processes.
 */
import { execFile } from "node:child_process";
import { once } from "node:events";
import { createServer as createHttpServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMovierecClient, isIdempotent } from "movierec/client";
import { TopMoviesMetric } from "../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";

const SECRET = "reporting-secret-0123456789abcdefghijklmnop";
const ROOT = path.join(import.meta.dirname, "../..");
let ts: TestServer;

beforeAll(async () => {
  ts = await startTestServer({ env: { SERVICE_TOKENS: `reporting:analytics.read:${SECRET}` } });
});
afterAll(async () => {
  await ts?.close();
});

const day = new Date().toISOString().slice(0, 10);
const report = { startDate: day, endDate: day, by: TopMoviesMetric.VIEWS, limit: 5 };
const codeOf = (p: Promise<unknown>) => p.then(() => Code[0], (e: unknown) => Code[ConnectError.from(e).code]);

describe.each(["grpc", "connect", "grpc-web"] as const)("over %s", (protocol) => {
  it("calls public methods, and staff reports with a scoped service token", async () => {
    const anonymous = createMovierecClient({ baseUrl: ts.baseUrl, protocol });
    expect(Array.isArray((await anonymous.catalog.listGenres({})).genres)).toBe(true);
    expect(await codeOf(anonymous.analytics.getTopMovies(report))).toBe("Unauthenticated");
    const service = createMovierecClient({ baseUrl: ts.baseUrl, protocol, serviceToken: SECRET });
    expect(Array.isArray((await service.analytics.getTopMovies(report)).movies)).toBe(true);
    // The token's scope is analytics.read, nothing more.
    expect(await codeOf(service.user.listUsers({}))).toBe("PermissionDenied");
    const wrong = createMovierecClient({ baseUrl: ts.baseUrl, protocol, serviceToken: `${SECRET}x` });
    expect(await codeOf(wrong.analytics.getTopMovies(report))).toBe("Unauthenticated");
  });

  it("gives every call a deadline", async () => {
    const hasty = createMovierecClient({ baseUrl: ts.baseUrl, protocol, timeoutMs: 1 });
    expect(await codeOf(hasty.catalog.searchMovies({ query: "a deadline of one millisecond" }))).toBe("DeadlineExceeded");
  });
});

/**
 * An HTTP/1.1 front of the server that answers 503 to the first `failures` requests, as a load balancer does
 * while the instance behind it restarts (Connect maps 503 to UNAVAILABLE), then passes requests through.
 */
async function flakyFront(failures: number): Promise<{ url: string; close: () => Promise<void> }> {
  let n = 0;
  const upstream = new URL(ts.baseUrl);
  const server = createHttpServer((req, res) => {
    if (n++ < failures) {
      req.resume();
      return res.writeHead(503, { "content-type": "text/plain" }).end("restarting");
    }
    const fwd = httpRequest({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    fwd.on("error", () => res.destroy());
    req.pipe(fwd);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe("retries", () => {
  const attempts = (count: { n: number }): Interceptor => (next) => (req) => {
    count.n++;
    return next(req);
  };

  it("retries a read method through UNAVAILABLE and succeeds", async () => {
    const front = await flakyFront(2);
    try {
      const count = { n: 0 };
      const api = createMovierecClient({ baseUrl: front.url, protocol: "connect", backoffMs: 5, interceptors: [attempts(count)] });
      expect(Array.isArray((await api.catalog.listGenres({})).genres)).toBe(true);
      expect(count.n).toBe(3);
    } finally {
      await front.close();
    }
  });

  it("gives up after `retries`, and never retries a write", async () => {
    const front = await flakyFront(100);
    try {
      const reads = { n: 0 };
      const api = createMovierecClient({ baseUrl: front.url, protocol: "connect", backoffMs: 5, retries: 3, interceptors: [attempts(reads)] });
      expect(await codeOf(api.catalog.getMovie({ lookup: { case: "id", value: "1" } }))).toBe("Unavailable");
      expect(reads.n).toBe(4);
      const writes = { n: 0 };
      const writer = createMovierecClient({ baseUrl: front.url, protocol: "connect", backoffMs: 5, retries: 3, interceptors: [attempts(writes)], token: "t" });
      expect(await codeOf(writer.recommendation.recordInteraction({ movieId: "1" }))).toBe("Unavailable");
      expect(writes.n).toBe(1);
    } finally {
      await front.close();
    }
  });

  it("treats reads as idempotent and writes as not", () => {
    expect(isIdempotent(CatalogService.method.searchMovies)).toBe(true);
    expect(isIdempotent(CatalogService.method.batchGetMovies)).toBe(true);
    expect(isIdempotent(CatalogService.method.createMovie)).toBe(false);
    expect(isIdempotent(RecommendationService.method.recordInteraction)).toBe(false);
  });
});

describe("the README's examples, run as their own processes", () => {
  const run = (file: string, env: Record<string, string>, args: string[] = []) =>
    promisify(execFile)(process.execPath, [path.join(ROOT, "examples", file), ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 }).then(
      (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
    );

  it("internal-service.ts reports with its service token, and says why when refused", async () => {
    const ok = await run("internal-service.ts", { MOVIEREC_URL: ts.baseUrl, MOVIEREC_SERVICE_TOKEN: SECRET });
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ day, top: expect.any(Array), genres: expect.any(Number) });
    const refused = await run("internal-service.ts", { MOVIEREC_URL: ts.baseUrl, MOVIEREC_SERVICE_TOKEN: "not-the-secret" });
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/movierec refused: Unauthenticated/);
  });

  it("grpc-js-client.ts searches the catalogue with @grpc/grpc-js", async () => {
    const r = await run("grpc-js-client.ts", { MOVIEREC_ADDRESS: ts.grpcAddress }, ["labyrinth"]);
    expect(r.code, r.err).toBe(0);
    expect(Array.isArray(JSON.parse(r.out))).toBe(true);
  });
});
