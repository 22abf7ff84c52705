import { execFile } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import http2 from "node:http2";
import https from "node:https";
import tls from "node:tls";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { AnalyticsService } from "../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { ConfigError, loadConfig } from "../../src/platform/config.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { TestPki, type Pem } from "../support/test-certs.ts";
import { grpcUnary } from "../support/grpc-client.ts";
import { createMovierecClient } from "../../src/client/index.ts";

const pki = new TestPki();
const ca = pki.ca("movierec-test-ca");
const otherCa = pki.ca("stranger-ca");
const serverA = pki.leaf("server-a", ca, "server-a", "DNS:localhost,IP:127.0.0.1", "serverAuth");
const serverB = pki.leaf("server-b", ca, "server-b", "DNS:localhost,IP:127.0.0.1", "serverAuth");
const reporting = pki.leaf("reporting", ca, "reporting", "URI:spiffe://movierec/reporting", "clientAuth");
const unmapped = pki.leaf("unmapped", ca, "somebody", "URI:spiffe://movierec/somebody", "clientAuth");
const stranger = pki.leaf("stranger", otherCa, "reporting", "URI:spiffe://movierec/reporting", "clientAuth");

const day = new Date().toISOString().slice(0, 10);
/** How a client sees a connection the server cut during or right after the handshake (no RPC was answered). */
const TRANSPORT_FAILURES = [Code.Canceled, Code.Unavailable, Code.Internal];
// The operator's grpcurl: $GRPCURL, or grpcurl on the PATH (not part of a clone: without it these checks skip, saying so).
const GRPCURL = [process.env.GRPCURL, ...(process.env.PATH ?? "").split(":").map((d) => `${d}/grpcurl`)].find((p) => p && existsSync(p));
const url = (ts: TestServer) => `https://127.0.0.1:${ts.server.port}`;

/** The subject CN of the certificate a new TLS connection is shown, and the protocol ALPN chose. */
function handshake(ts: TestServer, opts: tls.ConnectionOptions = {}): Promise<{ cn: string; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port: ts.server.port, ca: ca.cert, servername: "localhost", ALPNProtocols: ["h2", "http/1.1"], ...opts }, () => {
      const res = { cn: String(s.getPeerCertificate().subject.CN), alpn: s.alpnProtocol ?? false };
      s.end();
      resolve(res);
    });
    s.on("error", reject);
  });
}

function connectClient(ts: TestServer, client?: Pem, httpVersion: "1.1" | "2" = "2") {
  const nodeOptions = { ca: ca.cert, ...(client ? { cert: client.cert, key: client.key } : {}) };
  return createConnectTransport({ baseUrl: url(ts), httpVersion, nodeOptions });
}

describe("TLS on the one port", () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer({ env: { TLS_CERT_FILE: serverA.certFile, TLS_KEY_FILE: serverA.keyFile } });
  });
  afterAll(async () => ts?.close());

  it("lets ALPN choose h2 or http/1.1 on the same port", async () => {
    expect((await handshake(ts)).alpn).toBe("h2");
    expect((await handshake(ts, { ALPNProtocols: ["http/1.1"] })).alpn).toBe("http/1.1");
  });

  it("answers gRPC (grpc-js and connect-node), Connect over h2 and HTTP/1.1, and gRPC-Web over HTTP/1.1", async () => {
    const transports = {
      "gRPC (connect-node)": createGrpcTransport({ baseUrl: url(ts), nodeOptions: { ca: ca.cert } }),
      "Connect h2": connectClient(ts),
      "Connect HTTP/1.1": connectClient(ts, undefined, "1.1"),
      "gRPC-Web HTTP/1.1": createGrpcWebTransport({ baseUrl: url(ts), httpVersion: "1.1", nodeOptions: { ca: ca.cert } }),
    };
    for (const [name, transport] of Object.entries(transports)) {
      expect((await createClient(CatalogService, transport).listGenres({})).genres, name).toBeInstanceOf(Array);
    }
    const client = new grpc.Client(`127.0.0.1:${ts.server.port}`, grpc.credentials.createSsl(ca.cert));
    try {
      expect((await grpcUnary(client, CatalogService.method.listGenres, {})).genres).toBeInstanceOf(Array);
    } finally {
      client.close();
    }
  });

  it("serves the plain HTTP endpoints and the console over HTTPS/1.1", async () => {
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        https.get(`${url(ts)}${path}`, { ca: ca.cert }, (res) => {
          let s = "";
          res.on("data", (c: Buffer) => (s += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: s }));
        }).on("error", reject);
      });
    expect(JSON.parse((await get("/healthz")).body).status).toBe("SERVING");
    const page = await get("/console/");
    expect(page.status).toBe(200);
    expect(page.body).toContain("console.js");
    expect((await get("/console/console.js")).status).toBe(200);
  });

  it("is refused by a client that trusts another CA", async () => {
    await expect(handshake(ts, { ca: otherCa.cert })).rejects.toThrow(/self.signed|unable to (get|verify)/i);
    const health = createClient(Health, createConnectTransport({ baseUrl: url(ts), httpVersion: "2", nodeOptions: { ca: otherCa.cert } }));
    await expect(health.check({ service: "" })).rejects.toThrow(/unable to verify|self.signed/i);
  });

  it("speaks TLS 1.2 with ECDHE + AEAD suites only, and no TLS 1.1", async () => {
    await expect(handshake(ts, { maxVersion: "TLSv1.2", ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" })).resolves.toMatchObject({ cn: "server-a" });
    await expect(handshake(ts, { maxVersion: "TLSv1.2", ciphers: "ECDHE-ECDSA-AES128-SHA" })).rejects.toThrow();
    await expect(handshake(ts, { minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT:@SECLEVEL=0" })).rejects.toThrow();
  });

  it("runs the operator's grpcurl with -cacert (when grpcurl is installed)", async (ctx) => {
    if (!GRPCURL) return ctx.skip("grpcurl is not installed on this machine");
    const { stdout } = await promisify(execFile)(GRPCURL, ["-cacert", ca.certFile, `localhost:${ts.server.port}`, "list"]);
    expect(stdout).toContain("movierec.catalog.v1.CatalogService");
  });
});

describe("mutual TLS: client certificates as service identities", () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer({
      env: {
        TLS_CERT_FILE: serverA.certFile,
        TLS_KEY_FILE: serverA.keyFile,
        TLS_CLIENT_CA_FILE: ca.certFile,
        SERVICE_CERTS: "reporting:analytics.read:uri=spiffe://movierec/reporting",
      },
    });
  });
  afterAll(async () => ts?.close());

  it("gives a verified certificate exactly its service's scopes", async () => {
    const analytics = createClient(AnalyticsService, connectClient(ts, reporting));
    const res = await analytics.getActiveUsers({ startDate: day, endDate: day });
    expect(res).toBeDefined();
    const catalog = createClient(CatalogService, connectClient(ts, reporting));
    await expect(catalog.createMovie({ movie: { title: "Not yours", releaseDate: day } } as never)).rejects.toMatchObject({ code: Code.PermissionDenied });
  });

  it("treats a verified certificate without a mapping, or no certificate, as anonymous (browsers keep working)", async () => {
    for (const client of [unmapped, undefined]) {
      const transport = connectClient(ts, client);
      expect((await createClient(CatalogService, transport).listGenres({})).genres).toBeDefined();
      const err = await createClient(AnalyticsService, transport).getActiveUsers({ startDate: day, endDate: day }).catch((e: unknown) => e);
      expect(ConnectError.from(err).code).toBe(Code.Unauthenticated);
    }
  });

  it("lets the typed client call with its certificate instead of a bearer secret, over each protocol", async () => {
    for (const protocol of ["grpc", "connect", "grpc-web"] as const) {
      const api = createMovierecClient({ baseUrl: url(ts), protocol, tls: { ca: ca.cert, cert: reporting.cert, key: reporting.key } });
      expect(await api.analytics.getActiveUsers({ startDate: day, endDate: day }), protocol).toBeDefined();
      await expect(api.catalog.deleteMovie({ movieId: "1" } as never), protocol).rejects.toMatchObject({ code: Code.PermissionDenied });
    }
  });

  it("refuses a certificate signed by an unknown CA, even where certificates are optional", async () => {
    const err = await createClient(Health, connectClient(ts, stranger)).check({ service: "" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(TRANSPORT_FAILURES).toContain(ConnectError.from(err).code);
  });

  it("with TLS_CLIENT_CERT=required, refuses clients without a certificate", async () => {
    const strict = await startTestServer({
      env: { TLS_CERT_FILE: serverA.certFile, TLS_KEY_FILE: serverA.keyFile, TLS_CLIENT_CA_FILE: ca.certFile, TLS_CLIENT_CERT: "required", SERVICE_CERTS: "reporting:analytics.read:cn=reporting" },
    });
    try {
      const err = await createClient(Health, connectClient(strict)).check({ service: "" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect(TRANSPORT_FAILURES).toContain(ConnectError.from(err).code);
      // Matched by subject CN this time.
      const res = await createClient(AnalyticsService, connectClient(strict, reporting)).getActiveUsers({ startDate: day, endDate: day });
      expect(res).toBeDefined();
      if (GRPCURL) {
        // What an operator types: grpcurl with the client certificate (and refused without it).
        const run = promisify(execFile);
        const { stdout } = await run(GRPCURL, ["-cacert", ca.certFile, "-cert", reporting.certFile, "-key", reporting.keyFile, `localhost:${strict.server.port}`, "list"]);
        expect(stdout).toContain("movierec.analytics.v1.AnalyticsService");
        await expect(run(GRPCURL, ["-cacert", ca.certFile, `localhost:${strict.server.port}`, "list"])).rejects.toThrow();
      }
    } finally {
      await strict.close();
    }
  });
});

describe("certificate reload without restart", () => {
  it("shows new connections the replaced certificate while an open connection keeps working", async () => {
    const live: Pem = { ...serverA, certFile: `${pki.dir}/live.crt`, keyFile: `${pki.dir}/live.key` };
    copyFileSync(serverA.certFile, live.certFile);
    copyFileSync(serverA.keyFile, live.keyFile);
    const ts = await startTestServer({ env: { TLS_CERT_FILE: live.certFile, TLS_KEY_FILE: live.keyFile, TLS_RELOAD_POLL_MS: "100" } });
    const session = http2.connect(url(ts), { ca: ca.cert });
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const req = session.request({ ":path": "/healthz" });
        req.on("response", (h) => resolve(Number(h[":status"])));
        req.on("error", reject);
        req.resume();
      });
    try {
      expect(await get()).toBe(200);
      expect((await handshake(ts)).cn).toBe("server-a");
      copyFileSync(serverB.keyFile, live.keyFile);
      copyFileSync(serverB.certFile, live.certFile);
      let cn = "";
      for (let i = 0; i < 100 && cn !== "server-b"; i++) {
        await new Promise((r) => setTimeout(r, 50));
        cn = (await handshake(ts)).cn;
      }
      expect(cn).toBe("server-b");
      expect(await get()).toBe(200); // the connection opened before the reload
      // SIGHUP path: nothing changed since, so nothing is reloaded.
      expect(ts.server.reloadTls()).toBe(false);
    } finally {
      session.close();
      await ts.close();
    }
  });

  it("keeps the running certificates when the new files are broken", async () => {
    const live: Pem = { ...serverA, certFile: `${pki.dir}/live2.crt`, keyFile: `${pki.dir}/live2.key` };
    copyFileSync(serverA.certFile, live.certFile);
    copyFileSync(serverA.keyFile, live.keyFile);
    const ts = await startTestServer({ env: { TLS_CERT_FILE: live.certFile, TLS_KEY_FILE: live.keyFile, TLS_RELOAD_POLL_MS: "0" } });
    try {
      copyFileSync(serverB.certFile, live.certFile); // key of A, certificate of B: a mismatched pair
      expect(ts.server.reloadTls()).toBe(false);
      expect((await handshake(ts)).cn).toBe("server-a");
      copyFileSync(serverB.keyFile, live.keyFile);
      expect(ts.server.reloadTls()).toBe(true);
      expect((await handshake(ts)).cn).toBe("server-b");
    } finally {
      await ts.close();
    }
  });
});

describe("TLS configuration", () => {
  it("names each bad TLS variable", () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (e) {
        return (e as ConfigError).problems;
      }
    };
    expect(problems({ TLS_CERT_FILE: "a.pem" }).join()).toContain("TLS_CERT_FILE and TLS_KEY_FILE go together");
    expect(problems({ TLS_CERT_FILE: "a", TLS_KEY_FILE: "b", TLS_CLIENT_CA_FILE: "c", SERVICE_CERTS: "bad entry" }).join()).toContain("SERVICE_CERTS entries must be");
    expect(problems({ TLS_CERT_FILE: "a", TLS_KEY_FILE: "b", SERVICE_CERTS: "x:analytics.read:cn=x" }).join()).toContain("SERVICE_CERTS needs TLS_CLIENT_CA_FILE");
    const ok = loadConfig({ TLS_CERT_FILE: "a", TLS_KEY_FILE: "b", TLS_CLIENT_CA_FILE: "c", SERVICE_CERTS: "ingest:analytics.write:uri=spiffe://movierec/ingest" });
    expect(ok.tls?.serviceCerts).toEqual([{ name: "ingest", scopes: ["analytics.write"], match: { kind: "uri", value: "spiffe://movierec/ingest" } }]);
    expect(loadConfig({}).tls).toBeUndefined();
  });
});
