/**
 * Fuzz test (issue 11): every RPC of the six services — listed from the generated service descriptors, so a new
 * RPC is fuzzed without touching this file — gets seeded random messages (boundary numbers, NUL and lone
 * surrogates, oversized text, ids beyond bigint, forged page tokens, unknown enums, hostile Structs) and malformed
 * protobuf bytes, over gRPC and Connect (JSON and binary), as an anonymous, a signed-in and a staff caller.
 * It fails on any INTERNAL/UNKNOWN/DATA_LOSS answer, and on a server that stops answering (a call or /healthz
 * that times out).
 *
 * Bounded for CI (FUZZ_ITERATIONS=4 messages per RPC, protocol alternating, about 30 s under load). Longer runs:
 *   FUZZ_ITERATIONS=200 FUZZ_SEED=7 node_modules/.bin/vitest run tests/server/fuzz.test.ts
 * The server runs on a database and Redis prefix of its own, so what staff calls create or delete cannot disturb
 * other test files.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { create, toBinary, toJsonString, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { API_SERVICES } from "../../src/server/services.ts";
import { openOrm } from "../../src/platform/orm.ts";
import { migrateUp } from "../../src/platform/migrations.ts";
import { ensurePartitions } from "../../src/platform/partitions.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";
import { MessageFuzzer, malformedBodies } from "../support/fuzz-messages.ts";
import { seededRandom } from "../../src/platform/seeded-random.ts";

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 4);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const CALL_TIMEOUT_MS = 20_000;
const BAD_CONNECT = new Set(["internal", "unknown", "data_loss"]);
const BAD_GRPC = new Set([grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.DATA_LOSS]);

let db: TestDatabase;
let ts: TestServer;
let grpcClient: grpc.Client;
const callers: Record<"anon" | "user" | "staff", TestUser | undefined> = { anon: undefined, user: undefined, staff: undefined };

beforeAll(async () => {
  db = await createTestDatabase("movierec_fuzz", inject("adminDatabaseUrl"));
  const orm = await openOrm(db.url);
  try {
    await migrateUp(orm);
    await ensurePartitions(orm, { now: new Date(), monthsAhead: 1 });
  } finally {
    await orm.close();
  }
  ts = await startTestServer({ env: { DATABASE_URL: db.url, REDIS_PREFIX: `${inject("redisPrefix")}fz` } });
  grpcClient = new grpc.Client(ts.grpcAddress, grpc.credentials.createInsecure());
}, 300_000);

afterAll(async () => {
  grpcClient?.close();
  await ts?.close();
  await db?.drop();
});

type Outcome = { code: string; detail?: string };

function metadataFor(who: TestUser | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (who) md.set("authorization", who.headers.authorization!);
  return md;
}

/** One unary call over gRPC with raw bytes as the request message; the status code name, or "timeout". */
function grpcUnary(method: DescMethod, body: Uint8Array, who: TestUser | undefined): Promise<Outcome> {
  const path = `/${method.parent.typeName}/${method.name}`;
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + CALL_TIMEOUT_MS);
    const done = (err: grpc.ServiceError | null) => {
      if (!err) return resolve({ code: "ok" });
      if (err.code === grpc.status.DEADLINE_EXCEEDED && Date.now() >= deadline.getTime() - 50) return resolve({ code: "timeout", detail: err.details });
      resolve({ code: BAD_GRPC.has(err.code) ? "internal" : String(err.code), detail: err.details });
    };
    const ident = (b: Buffer) => b;
    if (method.methodKind === "client_streaming") {
      const call = grpcClient.makeClientStreamRequest(path, ident, ident, metadataFor(who), { deadline }, done);
      call.write(Buffer.from(body));
      call.end();
    } else {
      grpcClient.makeUnaryRequest(path, ident, ident, Buffer.from(body), metadataFor(who), { deadline }, done);
    }
  });
}

/** One unary Connect call with a raw body (`application/proto` or `application/json`). */
async function connectUnary(method: DescMethod, body: Uint8Array | string, contentType: string, who: TestUser | undefined): Promise<Outcome> {
  try {
    const res = await fetch(`${ts.baseUrl}/${method.parent.typeName}/${method.name}`, {
      method: "POST",
      headers: { "content-type": contentType, ...(who?.headers ?? {}) },
      body: typeof body === "string" ? body : Buffer.from(body),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    const text = await res.text();
    if (res.status === 200) return { code: "ok" };
    try {
      const err = JSON.parse(text) as { code?: string; message?: string };
      return { code: BAD_CONNECT.has(err.code ?? "") ? "internal" : (err.code ?? `http ${res.status}`), detail: err.message };
    } catch {
      return { code: "internal", detail: `HTTP ${res.status} with a body that is not a Connect error: ${text.slice(0, 100)}` };
    }
  } catch (e) {
    return { code: "timeout", detail: String(e) };
  }
}

/** A client-streaming call over Connect with typed messages. */
async function connectStream(method: DescMethod, messages: Array<Record<string, unknown>>, who: TestUser | undefined): Promise<Outcome> {
  const transport = createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "2", useBinaryFormat: true });
  const service = method.parent;
  const client = createClient(service, transport) as unknown as Record<string, (input: AsyncIterable<unknown>, opts: object) => Promise<unknown>>;
  async function* input() {
    for (const m of messages) yield create(method.input, m);
  }
  try {
    await client[method.localName]!(input(), { headers: who?.headers ?? {}, timeoutMs: CALL_TIMEOUT_MS });
    return { code: "ok" };
  } catch (e) {
    const err = e as { code?: number; rawMessage?: string };
    // connect-es codes: 2 unknown, 13 internal, 15 data loss, 4 deadline.
    if (err.code === 4) return { code: "timeout", detail: err.rawMessage };
    return { code: err.code === 13 || err.code === 2 || err.code === 15 ? "internal" : String(err.code), detail: err.rawMessage };
  }
}

async function healthy(): Promise<boolean> {
  try {
    const res = await fetch(`${ts.baseUrl}/healthz`, { signal: AbortSignal.timeout(10_000) });
    return res.status === 200 || res.status === 503;
  } catch {
    return false;
  }
}

function jsonOf(desc: DescMessage, init: Record<string, unknown>): string | undefined {
  try {
    return toJsonString(desc, create(desc, init));
  } catch {
    return undefined; // not representable in JSON (e.g. a Timestamp beyond year 9999): binary only
  }
}

describe.each(API_SERVICES.map((s) => [s.typeName, s] as const))("fuzz %s", (_name, service) => {
  beforeAll(async () => {
    // Fresh accounts per service: a fuzzed Logout(all_sessions) must not leave later services without a caller.
    callers.user = await createTestUser(ts.deps);
    callers.staff = await createTestUser(ts.deps, { staff: true });
  }, 120_000);

  it.each(service.methods.map((m) => [m.name, m] as const))(
    "%s never answers INTERNAL and keeps answering",
    async (_m, method) => {
      const fuzz = new MessageFuzzer(seededRandom(SEED ^ hash(`${service.typeName}/${method.name}`)));
      const failures: string[] = [];
      const record = (how: string, who: string, what: string, out: Outcome) => {
        if (out.code === "internal" || out.code === "timeout") failures.push(`${how} as ${who}: ${out.code} ${out.detail ?? ""} for ${what.slice(0, 300)}`);
      };
      const whoNames = ["anon", "user", "staff"] as const;
      for (let i = 0; i < ITERATIONS; i++) {
        const whoName = whoNames[i % 3]!;
        const who = callers[whoName];
        const init = fuzz.message(method.input);
        const binary = toBinary(method.input, create(method.input, init));
        const json = jsonOf(method.input, init);
        const what = json ?? `binary ${Buffer.from(binary).toString("hex").slice(0, 200)}`;
        record("grpc", whoName, what, await grpcUnary(method, binary, who));
        if (method.methodKind === "client_streaming") {
          record("connect-stream", whoName, what, await connectStream(method, [init, fuzz.message(method.input)], who));
        } else if (json !== undefined && i % 2 === 0) {
          record("connect-json", whoName, what, await connectUnary(method, json, "application/json", who));
        } else {
          record("connect-proto", whoName, what, await connectUnary(method, binary, "application/proto", who));
        }
      }
      // Malformed bytes and JSON, as the staff caller (authorisation passes, so parsing is what is tested).
      const valid = toBinary(method.input, create(method.input, fuzz.message(method.input)));
      for (const bad of malformedBodies(fuzz, valid)) {
        const hex = Buffer.from(bad).toString("hex").slice(0, 80);
        record("grpc malformed", "staff", hex, await grpcUnary(method, bad, callers.staff));
        if (method.methodKind === "unary") record("connect malformed", "staff", hex, await connectUnary(method, bad, "application/proto", callers.staff));
      }
      if (method.methodKind === "unary") {
        for (const bad of ['{"', "[]", '{"a":1}', "null", '{"pageSize":"x"}', "\u0000"]) record("connect bad json", "anon", bad, await connectUnary(method, bad, "application/json", undefined));
      }
      expect(await healthy(), "the server stopped answering /healthz").toBe(true);
      expect(failures).toEqual([]);
    },
    300_000,
  );
});

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
