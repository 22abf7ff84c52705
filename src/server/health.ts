import { EventEmitter, on } from "node:events";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import type { Logger } from "../platform/logger.ts";

/** A named dependency check: resolves true when the dependency answers. Must not throw. */
export type Probe = () => Promise<boolean>;

/**
 * Probes PostgreSQL and Redis on an interval and holds the serving status of every service:
 * SERVING only while every probe passes. `grpc.health.v1.Health` reads it (Check) and
 * streams its changes (Watch).
 */
export class HealthMonitor {
  readonly #probes: Record<string, Probe>;
  readonly #services: ReadonlySet<string>;
  readonly #events = new EventEmitter();
  readonly #log: Logger;
  #serving = false;
  #failing: string[] = ["not yet probed"];
  #timer: NodeJS.Timeout | undefined;
  #shuttingDown = false;

  constructor(opts: { probes: Record<string, Probe>; services: readonly string[]; log: Logger }) {
    this.#probes = opts.probes;
    // "" is the whole server, by the health protocol's convention.
    this.#services = new Set(["", ...opts.services]);
    this.#log = opts.log;
    this.#events.setMaxListeners(0);
  }

  /** Runs the first probe, then probes every `intervalMs` until stop(). */
  async start(intervalMs: number): Promise<void> {
    await this.probeNow();
    const tick = async () => {
      await this.probeNow();
      if (this.#timer) this.#timer = setTimeout(tick, intervalMs).unref();
    };
    this.#timer = setTimeout(tick, intervalMs).unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#events.emit("stop");
  }

  /** Marks everything NOT_SERVING for good (graceful shutdown: load balancers drain us first). */
  shutdown(): void {
    this.#shuttingDown = true;
    this.#set(false, ["shutting down"]);
  }

  async probeNow(): Promise<void> {
    const names = Object.keys(this.#probes);
    const results = await Promise.all(names.map((n) => this.#probes[n]!().catch(() => false)));
    const failing = names.filter((_, i) => !results[i]);
    if (!this.#shuttingDown) this.#set(failing.length === 0, failing);
  }

  get failing(): readonly string[] {
    return this.#failing;
  }

  get services(): readonly string[] {
    return [...this.#services];
  }

  has(service: string): boolean {
    return this.#services.has(service);
  }

  status(service: string): Status {
    if (!this.#services.has(service)) return Status.SERVICE_UNKNOWN;
    return this.#serving ? Status.SERVING : Status.NOT_SERVING;
  }

  /** Yields the current status of `service`, then each change, until the signal aborts or stop(). */
  async *watch(service: string, signal: AbortSignal): AsyncGenerator<Status> {
    let last = this.status(service);
    yield last;
    const stopped = new AbortController();
    const onStop = () => stopped.abort();
    this.#events.once("stop", onStop);
    try {
      for await (const _ of on(this.#events, "change", { signal: AbortSignal.any([signal, stopped.signal]) })) {
        const now = this.status(service);
        if (now !== last) {
          last = now;
          yield now;
        }
      }
    } catch (e) {
      if (!(e instanceof Error && e.name === "AbortError")) throw e;
    } finally {
      this.#events.off("stop", onStop);
    }
  }

  #set(serving: boolean, failing: string[]): void {
    const changed = serving !== this.#serving;
    this.#serving = serving;
    this.#failing = failing;
    if (changed) {
      this.#log[serving ? "info" : "warn"]({ serving, failing }, "health changed");
      this.#events.emit("change");
    }
  }
}

/** The `grpc.health.v1.Health` service over a HealthMonitor. */
export function createHealthService(monitor: HealthMonitor): ServiceImpl<typeof Health> {
  return {
    check(req) {
      if (!monitor.has(req.service)) throw new ConnectError(`unknown service ${req.service}`, Code.NotFound);
      return { status: monitor.status(req.service) };
    },
    list() {
      const statuses: Record<string, { status: Status }> = {};
      for (const service of monitor.services) statuses[service] = { status: monitor.status(service) };
      return { statuses };
    },
    async *watch(req, ctx) {
      // Unknown services are reported as SERVICE_UNKNOWN, not an error, as the protocol asks.
      for await (const status of monitor.watch(req.service, ctx.signal)) yield { status };
    },
  };
}
