import net from "node:net";
import http from "node:http";
import http2 from "node:http2";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

export type RequestHandler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;

// Every HTTP/2 cleartext connection starts with this preface ("prior knowledge", as gRPC clients do).
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
// While draining, a connection without a call in progress is closed once it has been quiet this long; one with
// traffic gets `Connection: close` (HTTP/1.1) or UNAVAILABLE answers (both) meanwhile. Closing at once would race a
// request the client is sending right now: on HTTP/1.1 it would see ECONNRESET; on HTTP/2 the stream would be
// refused after our GOAWAY (Node's GOAWAY always refuses later streams: it has no "shutdown notice" GOAWAY), which
// some clients report as INTERNAL.
const DRAIN_QUIET_MS = 500;

/** What the drain needs to know about a connection: calls in progress, and since when it has been quiet. */
interface ConnState {
  active: number;
  quietSince: number;
}

/** Bounds on how long a connection may hold a file descriptor without doing useful work. */
export interface ConnectionLimits {
  /**
   * Time a new connection has to say which protocol it speaks and, on HTTP/1.1, to finish each request's
   * headers (slowloris). An HTTP/2 connection must send its preface within it.
   */
  headersTimeoutMs: number;
  /** A connection with no call in progress (HTTP/1.1 keep-alive, HTTP/2 session without streams) is closed after this. */
  idleTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { headersTimeoutMs: 10_000, idleTimeoutMs: 60_000 };

/**
 * One TCP port for all protocols: the first bytes of each connection decide whether it goes
 * to the HTTP/2 server (gRPC, grpcurl, Connect over h2c) or the HTTP/1.1 server (browsers,
 * curl, gRPC-Web, Connect). Node's `allowHTTP1` only works with TLS (ALPN), hence the sniffing.
 *
 * Every phase of a connection is bounded (issue 11 row 3): sniffing by `headersTimeoutMs`, HTTP/1.1 headers by
 * Node's own `headersTimeout`, idleness by `idleTimeoutMs` — so idle or trickling clients cannot hold descriptors.
 */
export class DualProtocolListener {
  readonly #tcp: net.Server;
  readonly #h1: http.Server;
  readonly #h2: http2.Http2Server;
  readonly #limits: ConnectionLimits;
  readonly #sockets = new Set<net.Socket>();
  /** Sockets whose protocol is not known yet (nothing or part of the preface received). */
  readonly #sniffing = new Set<net.Socket>();
  readonly #h2Sessions = new Map<http2.ServerHttp2Session, ConnState>();
  readonly #h1Sockets = new Map<net.Socket, ConnState>();
  #draining = false;

  constructor(handler: RequestHandler, limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS) {
    this.#limits = limits;
    const h1Handler = (req: IncomingMessage, res: ServerResponse) => {
      const state = this.#h1Sockets.get(req.socket);
      if (state) {
        state.active++;
        res.once("close", () => {
          state.active--;
          state.quietSince = Date.now();
        });
      }
      // Draining: this response is the connection's last, whether the call started before or after SIGTERM.
      if (this.#draining) res.setHeader("connection", "close");
      handler(req, res);
    };
    this.#h1 = http.createServer(
      {
        keepAliveTimeout: Math.min(5000, limits.idleTimeoutMs),
        headersTimeout: limits.headersTimeoutMs,
        // Whole request (headers + body) on HTTP/1.1; streaming uploads use HTTP/2 (gRPC) instead.
        requestTimeout: Math.max(limits.headersTimeoutMs, 300_000),
        connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
      },
      h1Handler,
    );
    // Node enforces headersTimeout/requestTimeout from a timer it starts on 'listening'. This server never listens
    // itself (the TCP server hands it sockets), so start that timer here; without it slow headers are never cut.
    this.#h1.emit("listening");
    this.#h2 = http2.createServer({}, handler);
    this.#h2.on("session", (s: http2.ServerHttp2Session) => this.#trackSession(s));
    this.#tcp = net.createServer((socket) => this.#route(socket));
  }

  /** True once close() has begun: new calls should be refused with UNAVAILABLE. */
  get draining(): boolean {
    return this.#draining;
  }

  #route(socket: net.Socket): void {
    this.#sockets.add(socket);
    this.#sniffing.add(socket);
    socket.on("close", () => {
      this.#sockets.delete(socket);
      this.#sniffing.delete(socket);
    });
    socket.on("error", () => socket.destroy());
    // A connection that has not shown its protocol in time (idle, or half a preface) is dropped.
    const sniffTimer = setTimeout(() => socket.destroy(), this.#limits.headersTimeoutMs);
    sniffTimer.unref();
    socket.once("close", () => clearTimeout(sniffTimer));
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const n = Math.min(buffered.length, H2_PREFACE.length);
      const isH2 = buffered.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      // Wait for more bytes only while the data could still be the start of the preface.
      if (isH2 && buffered.length < H2_PREFACE.length) return;
      clearTimeout(sniffTimer);
      this.#sniffing.delete(socket);
      socket.off("data", onData);
      socket.pause();
      socket.unshift(buffered);
      // http2 drains bytes already buffered on the socket itself and then reads the handle
      // natively; resuming here would hand those bytes to nobody. http1 needs the resume.
      if (isH2) this.#h2.emit("connection", socket);
      else {
        this.#h1Sockets.set(socket, { active: 0, quietSince: Date.now() });
        socket.once("close", () => this.#h1Sockets.delete(socket));
        this.#h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
  }

  /** Closes an HTTP/2 session once it has had no open stream for `idleTimeoutMs`. */
  #trackSession(s: http2.ServerHttp2Session): void {
    const state: ConnState = { active: 0, quietSince: Date.now() };
    this.#h2Sessions.set(s, state);
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        if (state.active === 0 && !s.closed && !s.destroyed) s.close();
      }, this.#limits.idleTimeoutMs);
      idle.unref();
    };
    arm();
    s.on("stream", (stream: http2.ServerHttp2Stream) => {
      state.active++;
      clearTimeout(idle);
      stream.once("close", () => {
        state.quietSince = Date.now();
        if (--state.active === 0) arm();
      });
    });
    s.on("close", () => {
      clearTimeout(idle);
      this.#h2Sessions.delete(s);
    });
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
   * Graceful stop: the port stops accepting; calls that still arrive are answered UNAVAILABLE by the handler (see
   * `draining`), HTTP/1.1 ones with `Connection: close`; each connection is closed (HTTP/2: GOAWAY) once it has no
   * call in progress and has been quiet for a moment, HTTP/2 sessions at the latest after half the grace period;
   * in-flight calls finish for up to `graceMs`; whatever is left is then destroyed.
   */
  async close(graceMs: number): Promise<void> {
    this.#draining = true;
    const started = Date.now();
    const closed = new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
    const drained = new Promise<void>((resolve) => {
      const check = () => {
        const now = Date.now();
        const quiet = (st: ConnState) => st.active === 0 && now - st.quietSince >= DRAIN_QUIET_MS;
        for (const [socket, st] of this.#h1Sockets) if (quiet(st)) socket.destroy();
        for (const [session, st] of this.#h2Sessions) {
          // A busy client that ignores UNAVAILABLE is sent its GOAWAY anyway, leaving time for its running streams.
          if (!session.closed && (quiet(st) || now - started >= graceMs / 2)) session.close();
        }
        // A socket that has sent nothing yet has no call to finish: it is not waited for.
        if (this.#sockets.size === this.#sniffing.size) resolve();
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
