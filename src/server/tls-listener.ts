import { createHash } from "node:crypto";
import { readFileSync, unwatchFile, watchFile } from "node:fs";
import http2 from "node:http2";
import type net from "node:net";
import type { TLSSocket } from "node:tls";
import type { TlsConfig } from "../platform/config.ts";
import type { Logger } from "../platform/logger.ts";
import type { RequestHandler } from "./listener.ts";

/**
 * TLS 1.2 suites: ECDHE key exchange with AEAD ciphers only (Mozilla's "intermediate" profile), which is also what
 * HTTP/2 requires (RFC 9113, appendix A). TLS 1.3 keeps OpenSSL's defaults, all AEAD.
 */
export const TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

/** A client that has not finished its handshake by then is disconnected (slow or idle TLS clients hold no socket for ever). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

interface Material {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
  clientCa: Buffer | undefined;
  digest: string;
}

function readMaterial(tls: TlsConfig): Material {
  const cert = readFileSync(tls.certFile);
  const key = readFileSync(tls.keyFile);
  const ca = tls.caFile ? readFileSync(tls.caFile) : undefined;
  const clientCa = tls.clientCaFile ? readFileSync(tls.clientCaFile) : undefined;
  const digest = createHash("sha256").update(cert).update(key).update(ca ?? "").update(clientCa ?? "").digest("hex");
  return { cert, key, ca, clientCa, digest };
}

function contextOptions(m: Material) {
  // The server sends its certificate followed by the intermediates; `ca` verifies client certificates.
  return { cert: m.ca ? Buffer.concat([m.cert, Buffer.from("\n"), m.ca]) : m.cert, key: m.key, ca: m.clientCa };
}

/**
 * The one API port with TLS: ALPN picks `h2` (gRPC, Connect, gRPC-Web) or `http/1.1` (browsers, curl, gRPC-Web) on
 * the same port, so no preface sniffing is needed. With a client CA, client certificates are requested and verified:
 * one that does not verify is refused at once; none at all is refused only when `clientCert` is `required`.
 * Certificates are reloaded without a restart (`reload()`, SIGHUP, or when the files change): new connections get the
 * new ones, existing connections keep theirs until they end.
 */
export class TlsListener {
  readonly #server: http2.Http2SecureServer;
  readonly #tls: TlsConfig;
  readonly #log: Logger;
  readonly #sockets = new Set<TLSSocket>();
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  /** HTTP/1.1 requests in flight per socket, so a draining listener closes keep-alive sockets once they are idle. */
  readonly #inFlight = new Map<net.Socket, number>();
  #digest: string;
  #draining = false;

  constructor(tls: TlsConfig, handler: RequestHandler, log: Logger) {
    this.#tls = tls;
    this.#log = log;
    const material = readMaterial(tls); // unreadable or mismatched files stop the start-up with their error
    this.#digest = material.digest;
    this.#server = http2.createSecureServer(
      {
        ...contextOptions(material),
        allowHTTP1: true,
        minVersion: "TLSv1.2",
        ciphers: TLS12_CIPHERS,
        honorCipherOrder: true,
        requestCert: tls.clientCaFile !== undefined,
        rejectUnauthorized: tls.clientCaFile !== undefined && tls.clientCert === "required",
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      },
      (req, res) => {
        if (req.httpVersionMajor === 1) this.#trackHttp1(req.socket, res);
        handler(req, res);
      },
    );
    this.#server.on("secureConnection", (socket: TLSSocket) => this.#accept(socket));
    this.#server.on("session", (s: http2.ServerHttp2Session) => {
      this.#sessions.add(s);
      s.on("close", () => this.#sessions.delete(s));
    });
    this.#server.on("tlsClientError", (err: Error & { code?: string }) => log.debug({ code: err.code, msg: err.message }, "TLS handshake failed"));
    if (tls.reloadPollMs > 0) {
      for (const file of this.#files()) watchFile(file, { interval: tls.reloadPollMs, persistent: false }, () => this.reload("files changed"));
    }
  }

  /** True once close() has begun: new calls are refused with UNAVAILABLE by the handler. */
  get draining(): boolean {
    return this.#draining;
  }

  #files(): string[] {
    return [this.#tls.certFile, this.#tls.keyFile, this.#tls.caFile, this.#tls.clientCaFile].filter((f): f is string => f !== undefined);
  }

  #accept(socket: TLSSocket): void {
    // With `optional` client certificates the handshake lets an unverifiable certificate through; refuse it here, so a
    // certificate from an unknown CA is never mistaken for "no certificate".
    if (this.#tls.clientCaFile !== undefined && !socket.authorized && Object.keys(socket.getPeerCertificate()).length > 0) {
      this.#log.info({ reason: String(socket.authorizationError) }, "client certificate refused");
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    socket.on("close", () => {
      this.#sockets.delete(socket);
      this.#inFlight.delete(socket);
    });
  }

  #trackHttp1(socket: net.Socket, res: { once(event: "close", f: () => void): unknown; setHeader(n: string, v: string): unknown }): void {
    this.#inFlight.set(socket, (this.#inFlight.get(socket) ?? 0) + 1);
    if (this.#draining) res.setHeader("connection", "close");
    res.once("close", () => {
      const left = (this.#inFlight.get(socket) ?? 1) - 1;
      this.#inFlight.set(socket, left);
      if (this.#draining && left === 0) socket.end();
    });
  }

  /**
   * Re-reads the certificate files and installs them for new connections. A broken new set (unreadable, key not
   * matching) is logged and the running one kept. Returns whether anything changed.
   */
  reload(reason = "reload requested"): boolean {
    let material: Material;
    try {
      material = readMaterial(this.#tls);
      if (material.digest === this.#digest) return false;
      this.#server.setSecureContext({ ...contextOptions(material), minVersion: "TLSv1.2", ciphers: TLS12_CIPHERS, honorCipherOrder: true });
    } catch (e) {
      this.#log.error({ err: e, reason }, "TLS certificates not reloaded; keeping the current ones");
      return false;
    }
    this.#digest = material.digest;
    this.#log.info({ reason }, "TLS certificates reloaded");
    return true;
  }

  /** Listens; resolves with the bound port (use port 0 for a random one). */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        resolve((this.#server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Stops accepting, sends GOAWAY / `Connection: close`, lets in-flight requests finish for up to `graceMs`. */
  async close(graceMs: number): Promise<void> {
    for (const file of this.#files()) unwatchFile(file);
    this.#draining = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sessions) s.close();
    for (const socket of this.#sockets) {
      if (socket.alpnProtocol !== "h2" && (this.#inFlight.get(socket) ?? 0) === 0) socket.end();
    }
    let timer: NodeJS.Timeout | undefined;
    const drained = new Promise<void>((resolve) => {
      const check = () => (this.#sockets.size === 0 ? resolve() : (timer = setTimeout(check, 25)));
      check();
    });
    await Promise.race([drained, new Promise<void>((r) => setTimeout(r, graceMs).unref())]);
    clearTimeout(timer);
    for (const s of this.#sockets) s.destroy();
    await closed;
  }
}
