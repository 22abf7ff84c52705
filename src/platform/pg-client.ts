/**
 * The `pg` client class of our pool (MikroORM passes it to pg-pool as `Client`), adding two things to every query,
 * whichever module runs it, so no repository has to remember them:
 *
 * 1. Cancel on the caller's deadline. A query started on behalf of a call (request-signal.ts) registers for that
 *    call's abort signal; when it fires (deadline passed, caller gone) the running statement is cancelled with
 *    PostgreSQL's cancel request (a separate connection carrying the backend's pid and secret key, so it needs no
 *    pool slot), and the query rejects with the signal's reason (DEADLINE_EXCEEDED from connect). A query started
 *    after the signal fired is not sent at all.
 * 2. Connection state. A failed connect or a connection-level query failure is tagged as PostgreSQL's (errors.ts)
 *    and reported to the process's DependencyLog; a connect that succeeds reports PostgreSQL up.
 */
import { connect as netConnect } from "node:net";
import pg from "pg";
import type { DependencyLog } from "./dependency-log.ts";
import { dependencyFailure, isSocketFailure, tagDependencyFailure } from "./errors.ts";
import { currentSignal } from "./request-signal.ts";

// Statements always sent, even after the deadline: a rollback or savepoint release, since a connection returned to
// the pool inside an aborted transaction would fail its next user's statements; and BEGIN, since Kysely does not
// release a connection whose BEGIN failed (the statement after it fails instead, and the rollback releases it).
const ALWAYS_SENT = /^\s*(rollback|release|begin|start\s+transaction)\b/i;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's overloads, passed through unchanged
type Callback = (err: any, ...rest: any[]) => void;

/** Sends PostgreSQL's CancelRequest for backend `pid` (protocol: length 16, code 80877102, pid, secret). */
function sendCancel(host: string, port: number, pid: number, secret: number): void {
  const buf = Buffer.alloc(16);
  buf.writeInt32BE(16, 0);
  buf.writeInt32BE(80877102, 4);
  buf.writeInt32BE(pid, 8);
  buf.writeInt32BE(secret, 12);
  const socket = host.startsWith("/") ? netConnect(`${host}/.s.PGSQL.${port}`) : netConnect(port, host);
  socket.setTimeout(5000, () => socket.destroy());
  socket.on("error", () => undefined); // best effort: the statement then ends by itself
  socket.on("connect", () => socket.end(buf));
}

/** The client class for a pool whose connection failures are reported to `dependencies`. */
export function pgClientClass(dependencies?: DependencyLog): typeof pg.Client {
  const classify = (err: unknown) => {
    if (isSocketFailure(err)) tagDependencyFailure(err, "postgres");
    if (dependencyFailure(err) === "postgres") dependencies?.down("postgres", err);
    return err;
  };
  return class CallScopedClient extends pg.Client {
    /** Set once a cancel request went out for this connection's backend. */
    private cancelSent = false;
    private poolRelease?: (err?: Error | boolean) => void;

    // pg-pool hands each checkout a release function. A connection we sent a cancel request for is not handed to
    // the next caller: the request travels on its own socket and may land after the statement ended, on whatever
    // the next caller runs ("canceling statement due to user request" for a call that asked for nothing). Released
    // with an error, the pool closes it instead.
    set release(fn: ((err?: Error | boolean) => void) | undefined) {
      this.poolRelease = fn;
    }
    get release(): (err?: Error | boolean) => void {
      return (err) => this.poolRelease?.(err ?? (this.cancelSent ? new Error("cancel request sent on this connection") : undefined));
    }

    override connect(callback?: Callback): any {
      if (typeof callback === "function") {
        return super.connect((err?: Error) => {
          if (err) classify(err);
          else dependencies?.up("postgres");
          callback(err);
        });
      }
      return (super.connect() as Promise<unknown>).then(
        (client) => {
          dependencies?.up("postgres");
          return client;
        },
        (err: unknown) => {
          throw classify(err);
        },
      );
    }

    override query(...args: unknown[]): never {
      const signal = currentSignal();
      const first = args[0] as { submit?: unknown } | undefined;
      const promised = typeof args[args.length - 1] !== "function" && typeof first?.submit !== "function";
      // Callback and submittable (cursor) forms are passed through: Kysely's queries are promise-based.
      if (!promised) return (super.query as (...a: unknown[]) => unknown)(...args) as never;
      const text = typeof first === "string" ? first : String((first as { text?: unknown } | undefined)?.text ?? "");
      if (ALWAYS_SENT.test(text)) return (super.query as (...a: unknown[]) => Promise<unknown>)(...args).catch((err: unknown) => Promise.reject(classify(err))) as never;
      if (signal?.aborted) return Promise.reject(signal.reason as Error) as never;
      const result = (super.query as (...a: unknown[]) => Promise<unknown>)(...args);
      if (!signal) return result.catch((err: unknown) => Promise.reject(classify(err))) as never;
      const self = this as unknown as { host: string; port: number; processID: number | null; secretKey: number | null };
      const onAbort = () => {
        if (self.processID === null || self.secretKey === null) return;
        this.cancelSent = true;
        sendCancel(self.host, self.port, self.processID, self.secretKey);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      return result.then(
        (res) => {
          signal.removeEventListener("abort", onAbort);
          return res;
        },
        (err: unknown) => {
          signal.removeEventListener("abort", onAbort);
          // Cancelled for the caller: report why the caller gave up, not PostgreSQL's "canceling statement".
          return Promise.reject(signal.aborted ? (signal.reason as Error) : classify(err));
        },
      ) as never;
    }
  };
}
