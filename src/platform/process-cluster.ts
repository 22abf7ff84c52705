/**
 * N copies of one role (the API server, the worker) on one machine, with node:cluster: the primary forks them, restarts
 * one that dies, forwards SIGTERM and waits for each to finish its own graceful shutdown. The copies share nothing but
 * PostgreSQL, Redis and (for the server) the listening socket, which the primary hands out connection by connection
 * (round robin), so one HTTP/2 connection stays with one process and no request crosses processes.
 *
 * Each copy runs `src/main.ts` with the same arguments and environment; it tells the primary it is ready with
 * `notifyReady()` once its role has started. A copy that dies is replaced after a second; if copies keep dying
 * (5 within a minute: a bad database URL, a port in use) the primary stops them all and fails instead of looping.
 */
import cluster, { type Worker } from "node:cluster";
import type { Logger } from "./logger.ts";

const READY = "movierec:ready";
const CRASH_WINDOW_MS = 60_000;
const MAX_CRASHES = 5;

/** True in a copy forked by `startCluster` (not in a process started on its own). */
export const isClusterCopy = cluster.isWorker;

/** From a copy: its role has started (the primary's start-up waits for every copy's). */
export function notifyReady(): void {
  if (cluster.isWorker) process.send?.({ type: READY });
}

export interface RunningCluster {
  /** SIGTERM to every copy, then waits until all have exited (SIGKILL after `killAfterMs`). */
  stop(): Promise<void>;
  /** Resolves when the cluster gave up (copies kept dying); the caller should exit non-zero. */
  readonly failed: Promise<Error>;
}

/** In the primary: forks `processes` copies and resolves once every one reported ready. */
export async function startCluster(opts: { processes: number; log: Logger; killAfterMs: number }): Promise<RunningCluster> {
  const { log } = opts;
  let stopping = false;
  const crashes: number[] = [];
  let fail!: (e: Error) => void;
  const failed = new Promise<Error>((resolve) => (fail = resolve));
  const live = new Set<Worker>();

  const fork = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const w = cluster.fork();
      live.add(w);
      let ready = false;
      w.on("message", (m: { type?: string }) => {
        if (m?.type !== READY || ready) return;
        ready = true;
        resolve();
      });
      w.on("exit", (code, signal) => {
        live.delete(w);
        if (!ready) reject(new Error(`process ${w.process.pid} exited during start-up (code ${code}, signal ${signal})`));
        if (stopping || !ready) return;
        log.error({ pid: w.process.pid, code, signal }, "a server process died; starting another");
        const now = Date.now();
        crashes.push(now);
        while (crashes.length > 0 && crashes[0]! < now - CRASH_WINDOW_MS) crashes.shift();
        if (crashes.length >= MAX_CRASHES) {
          fail(new Error(`${crashes.length} processes died within a minute; giving up`));
          return;
        }
        setTimeout(() => {
          if (!stopping) fork().catch((e: unknown) => log.error({ err: e }, "a replacement process failed to start"));
        }, 1000).unref();
      });
    });

  const stop = async () => {
    stopping = true;
    const exits = [...live].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once("exit", () => resolve()))));
    for (const w of live) w.process.kill("SIGTERM");
    const killer = setTimeout(() => {
      for (const w of live) w.process.kill("SIGKILL");
    }, opts.killAfterMs);
    await Promise.all(exits);
    clearTimeout(killer);
  };

  try {
    await Promise.all(Array.from({ length: opts.processes }, fork));
  } catch (e) {
    await stop();
    throw e;
  }
  log.info({ processes: opts.processes, pids: [...live].map((w) => w.process.pid) }, "all processes started");
  return { stop, failed };
}

/** Whether this process should fork copies rather than run the role itself. */
export function shouldFork(processes: number): boolean {
  return processes > 1 && cluster.isPrimary;
}
