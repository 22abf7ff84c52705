import net from "node:net";
import http from "node:http";
import http2 from "node:http2";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

export type RequestHandler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;

// Every HTTP/2 cleartext connection starts with this preface ("prior knowledge", as gRPC clients do).
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * One TCP port for all protocols: the first bytes of each connection decide whether it goes
 * to the HTTP/2 server (gRPC, grpcurl, Connect over h2c) or the HTTP/1.1 server (browsers,
 * curl, gRPC-Web, Connect). Node's `allowHTTP1` only works with TLS (ALPN), hence the sniffing.
 */
export class DualProtocolListener {
  readonly #tcp: net.Server;
  readonly #h1: http.Server;
  readonly #h2: http2.Http2Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #h2Sessions = new Set<http2.ServerHttp2Session>();

  constructor(handler: RequestHandler) {
    this.#h1 = http.createServer({ keepAliveTimeout: 5000 }, handler);
    this.#h2 = http2.createServer({}, handler);
    this.#h2.on("session", (s: http2.ServerHttp2Session) => {
      this.#h2Sessions.add(s);
      s.on("close", () => this.#h2Sessions.delete(s));
    });
    this.#tcp = net.createServer((socket) => this.#route(socket));
  }

  #route(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const n = Math.min(buffered.length, H2_PREFACE.length);
      const isH2 = buffered.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      // Wait for more bytes only while the data could still be the start of the preface.
      if (isH2 && buffered.length < H2_PREFACE.length) return;
      socket.off("data", onData);
      socket.pause();
      socket.unshift(buffered);
      // http2 drains bytes already buffered on the socket itself and then reads the handle
      // natively; resuming here would hand those bytes to nobody. http1 needs the resume.
      if (isH2) this.#h2.emit("connection", socket);
      else {
        this.#h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
  }

  /** Listens; resolves with the bound port (use port 0 for a random one). */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#tcp.once("error", reject);
      this.#tcp.listen(port, host, () => {
        this.#tcp.off("error", reject);
        resolve((this.#tcp.address() as net.AddressInfo).port);
      });
    });
  }

  /**
   * Stops accepting connections, lets in-flight requests finish for up to `graceMs`,
   * then destroys whatever is left.
   */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
    for (const s of this.#h2Sessions) s.close(); // GOAWAY: no new streams, running ones finish
    this.#h1.closeIdleConnections();
    const drained = new Promise<void>((resolve) => {
      const check = () => {
        // Keep-alive HTTP/1.1 sockets go idle once their response is written; close them then.
        this.#h1.closeIdleConnections();
        if (this.#sockets.size === 0) resolve();
        else setTimeout(check, 25).unref();
      };
      check();
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    for (const s of this.#sockets) s.destroy();
    this.#h1.close();
    this.#h2.close();
    await closed;
  }
}
