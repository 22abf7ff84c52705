/**
 * What every call gets, whatever its outcome and protocol (README "Errors"): an `x-request-id` on the response (the
 * caller's when sane, a new one otherwise), exactly one access-log line with method, code, duration and request id
 * (never a body), an unexpected error's stack logged under the request id, and a `buf.validate.Violations` detail that
 * names every violated field (review of 2026-11-30, items 12, 14, 15).
 *
 * The server is the real one with the real modules, logging JSON lines into memory. One handler (ListGenres) is
 * replaced by one that throws a TypeError: no real handler fails unexpectedly on purpose, and the log of such a
 * failure is what one test reads.
 */
import { Writable } from "node:stream";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { closeAppDeps, dependencyProbes, openAppDeps, type AppDeps } from "../../src/server/app-deps.ts";
import { buildAuthenticator, buildImpls } from "../../src/server/impls.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { testConfig } from "../support/server.ts";
import { grpcClient } from "../support/grpc-client.ts";

interface LogLine {
  level: number;
  msg: string;
  rpc?: string;
  requestId?: string;
  code?: string;
  durationMs?: number;
  err?: { type?: string; message?: string; stack?: string };
}
const lines: string[] = [];
const parsed = (): LogLine[] => lines.flatMap((l) => l.split("\n")).filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as LogLine);
/** The error a call must fail with (a success fails the test). */
const failure = (p: Promise<unknown>): Promise<ConnectError> =>
  p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => ConnectError.from(e),
  );
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let deps: AppDeps;
let server: RunningServer;
let baseUrl: string;
let address: string;
beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const log = pino({ level: "info" }, sink);
  const config = testConfig();
  deps = await openAppDeps(config, log);
  const real = buildImpls(deps);
  const impls = {
    ...real,
    catalog: {
      ...real.catalog,
      listGenres(): never {
        throw new TypeError("boom: cannot read properties of undefined (wire-contract)");
      },
    },
  };
  server = await startServer({ config, log, probes: dependencyProbes(deps), impls, authenticate: buildAuthenticator(deps) });
  baseUrl = `http://127.0.0.1:${server.port}`;
  address = `127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.close();
  if (deps) await closeAppDeps(deps);
});

const transports = (): Record<string, Transport> => ({
  "connect (HTTP/1.1)": createConnectTransport({ baseUrl, httpVersion: "1.1" }),
  "connect (HTTP/2)": createConnectTransport({ baseUrl, httpVersion: "2" }),
  grpc: createGrpcTransport({ baseUrl }),
  "grpc-web": createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
});

/** Calls `fn` with headers; returns the response's x-request-id (headers, or error metadata) and the outcome. */
async function idOf(fn: (opts: { headers: Record<string, string>; onHeader: (h: Headers) => void }) => Promise<unknown>, sent?: string) {
  let header: string | null = null;
  const headers: Record<string, string> = sent === undefined ? {} : { "x-request-id": sent };
  try {
    await fn({ headers, onHeader: (h) => (header = h.get("x-request-id")) });
    return { id: header as string | null, code: 0 as Code | 0 };
  } catch (e) {
    const err = ConnectError.from(e);
    return { id: (header as string | null) ?? err.metadata.get("x-request-id"), code: err.code };
  }
}

/** A grpc-js unary call with optional request id; the x-request-id from the response headers or trailers. */
function grpcJsCall(path: string, body: Buffer, sent?: string): Promise<{ id: string | undefined; code: number }> {
  const client = grpcClient(address);
  const md = new grpc.Metadata();
  if (sent !== undefined) md.set("x-request-id", sent);
  return new Promise((resolve) => {
    let headerId: string | undefined;
    const call = client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, md, (err) => {
      client.close();
      const trailerId = err?.metadata.get("x-request-id")[0];
      resolve({ id: headerId ?? (trailerId === undefined ? undefined : String(trailerId)), code: err?.code ?? 0 });
    });
    call.on("metadata", (m) => {
      const v = m.get("x-request-id")[0];
      if (v !== undefined) headerId = String(v);
    });
  });
}

describe("x-request-id on every response (item 15)", () => {
  const insane = ["has spaces in it", "x".repeat(129), "semi;colon", "quote\"d", "ünïcode"];

  it("over every protocol, on success and on errors: the caller's sane id echoed, an insane one replaced by a UUID", async () => {
    for (const [name, transport] of Object.entries(transports())) {
      const user = createClient(UserService, transport);
      const catalog = createClient(CatalogService, transport);
      const calls: Record<string, (o: { headers: Record<string, string>; onHeader: (h: Headers) => void }) => Promise<unknown>> = {
        notFound: (o) => catalog.getMovie({ lookup: { case: "id", value: "999999999" } }, o),
        unauthenticated: (o) => user.getMe({}, o),
        invalid: (o) => user.register({ username: "ab", email: "nope", password: "short" }, o),
        internal: (o) => catalog.listGenres({}, o),
        search: (o) => catalog.searchMovies({ query: "harbor", pageSize: 2 }, o),
      };
      for (const [what, fn] of Object.entries(calls)) {
        const sane = `req-${randomBytes(4).toString("hex")}.${what}:1`;
        const echoed = await idOf(fn, sane);
        expect(echoed.id, `${name} ${what} sane`).toBe(sane);
        const generated = await idOf(fn);
        expect(generated.id, `${name} ${what} none sent`).toMatch(UUID);
        for (const bad of insane) {
          // fetch refuses non-Latin-1 header values; the others go on the wire as sent.
          if (!/^[\x20-\x7e]*$/.test(bad)) continue;
          const replaced = await idOf(fn, bad);
          expect(replaced.id, `${name} ${what} ${JSON.stringify(bad)}`).toMatch(UUID);
        }
      }
    }
  });

  it("over grpc-js too, including an error answered before any interceptor (malformed bytes)", async () => {
    const ok = await grpcJsCall("/grpc.health.v1.Health/Check", Buffer.alloc(0), "grpcjs-ok-1");
    expect(ok).toEqual({ id: "grpcjs-ok-1", code: 0 });
    const unauth = await grpcJsCall("/movierec.user.v1.UserService/GetMe", Buffer.alloc(0), "grpcjs-unauth-1");
    expect(unauth).toEqual({ id: "grpcjs-unauth-1", code: grpc.status.UNAUTHENTICATED });
    const malformed = await grpcJsCall("/movierec.catalog.v1.CatalogService/SearchMovies", Buffer.from([0x0a, 0x02, 0xff, 0xfe]));
    expect(malformed.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(malformed.id).toMatch(UUID);
    for (const bad of insane) {
      // grpc-js refuses non-ASCII metadata values before sending.
      if (!/^[\x20-\x7e]*$/.test(bad)) continue;
      const r = await grpcJsCall("/grpc.health.v1.Health/Check", Buffer.alloc(0), bad);
      expect(r.id, JSON.stringify(bad)).toMatch(UUID);
    }
  });
});

describe("access log (item 12)", () => {
  it("writes exactly one line per call with method, code, duration and request id, whatever the protocol and outcome", async () => {
    const password = `pw-${randomBytes(8).toString("hex")}`;
    const cases: Array<{ id: string; rpc: string; code: string; call: () => Promise<unknown> }> = [];
    for (const [name, transport] of Object.entries(transports())) {
      const tag = name.replace(/[^a-z0-9]/gi, "");
      const user = createClient(UserService, transport);
      const catalog = createClient(CatalogService, transport);
      const add = (what: string, rpc: string, code: string, call: (headers: Record<string, string>) => Promise<unknown>) => {
        const id = `log-${tag}-${what}-${randomBytes(3).toString("hex")}`;
        cases.push({ id, rpc, code, call: () => call({ "x-request-id": id }).catch(() => undefined) });
      };
      add("ok", "movierec.catalog.v1.CatalogService/SearchMovies", "OK", (headers) => catalog.searchMovies({ query: "x", pageSize: 1 }, { headers }));
      add("notfound", "movierec.catalog.v1.CatalogService/GetMovie", "NotFound", (headers) => catalog.getMovie({ lookup: { case: "id", value: "999999998" } }, { headers }));
      add("unauth", "movierec.user.v1.UserService/GetMe", "Unauthenticated", (headers) => user.getMe({}, { headers }));
      add("invalid", "movierec.user.v1.UserService/Register", "InvalidArgument", (headers) => user.register({ username: "ab", email: "nope", password: "short" }, { headers }));
      add("login", "movierec.user.v1.UserService/Login", "Unauthenticated", (headers) => user.login({ login: `nobody_${tag}`, password }, { headers }));
      add("internal", "movierec.catalog.v1.CatalogService/ListGenres", "Internal", (headers) => catalog.listGenres({}, { headers }));
    }
    // The same over grpc-js, and malformed bytes (answered before the interceptors run).
    const grpcOk = `log-grpcjs-ok-${randomBytes(3).toString("hex")}`;
    const grpcBad = `log-grpcjs-bad-${randomBytes(3).toString("hex")}`;
    cases.push({ id: grpcOk, rpc: "grpc.health.v1.Health/Check", code: "OK", call: () => grpcJsCall("/grpc.health.v1.Health/Check", Buffer.alloc(0), grpcOk) });
    cases.push({
      id: grpcBad,
      rpc: "movierec.catalog.v1.CatalogService/SearchMovies",
      code: "InvalidArgument",
      call: () => grpcJsCall("/movierec.catalog.v1.CatalogService/SearchMovies", Buffer.from([0x0a, 0x02, 0xff, 0xfe]), grpcBad),
    });
    for (const c of cases) await c.call();
    // Lines are written when the call ends; give the last one a moment.
    await new Promise((r) => setTimeout(r, 100));
    const log = parsed();
    for (const c of cases) {
      const accessLines = log.filter((l) => l.requestId === c.id && l.code !== undefined && typeof l.durationMs === "number");
      expect(accessLines, c.id).toHaveLength(1);
      const line = accessLines[0]!;
      expect(line.rpc, c.id).toBe(c.rpc);
      expect(line.code, c.id).toBe(c.code);
      expect(line.durationMs, c.id).toBeGreaterThanOrEqual(0);
      expect(line.durationMs, c.id).toBeLessThan(30_000);
    }
    const all = lines.join("");
    // Never a body, token or password.
    expect(all).not.toContain(password);
    expect(all).not.toContain('"short"');
  });

  it("logs an unexpected error's stack under the caller's request id, and sends the caller nothing of it", async () => {
    const id = `stack-${randomBytes(4).toString("hex")}`;
    const err = await failure(
      createClient(CatalogService, createConnectTransport({ baseUrl, httpVersion: "1.1" })).listGenres({}, { headers: { "x-request-id": id } }),
    );
    expect(err).toMatchObject({ code: Code.Internal, rawMessage: "internal error" });
    expect(err.metadata.get("x-request-id")).toBe(id);
    const withStack = parsed().filter((l) => l.requestId === id && l.err?.stack !== undefined);
    expect(withStack.length).toBeGreaterThanOrEqual(1);
    expect(withStack[0]!.err!.stack).toContain("TypeError: boom");
    expect(withStack[0]!.err!.stack).toContain("wire-contract.test.ts");
    expect(withStack[0]!.rpc).toBe("movierec.catalog.v1.CatalogService/ListGenres");
  });
});

describe("violations detail (item 14)", () => {
  it("names every violated field of one request, decoded from the detail, over Connect and gRPC", async () => {
    for (const [name, transport] of Object.entries(transports())) {
      const err = await failure(createClient(UserService, transport).register({ username: "ab", email: "nope", password: "short" }));
      expect(err.code, name).toBe(Code.InvalidArgument);
      const details = err.findDetails(ViolationsSchema);
      expect(details, name).toHaveLength(1);
      const fields = details[0]!.violations.map((v) => v.field?.elements.map((e) => e.fieldName).join("."));
      expect(new Set(fields), name).toEqual(new Set(["username", "email", "password"]));
      for (const v of details[0]!.violations) {
        expect(v.ruleId, name).not.toBe("");
        expect(v.message, name).not.toBe("");
      }
    }
  });
});
