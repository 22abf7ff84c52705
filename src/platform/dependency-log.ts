/**
 * One log line per state change of a dependency, per process: "redis unavailable" when the first failure is seen,
 * "redis available again" (with how long it was down) when it answers again. Every client of a dependency (the
 * cache client, the queue producers, the workers' connections, the PostgreSQL pool) reports here instead of logging
 * each retry or failed call: an outage of ten seconds is two lines, not hundreds.
 */
import { dependencyFailure, type Dependency } from "./errors.ts";
import type { Logger } from "./logger.ts";

export class DependencyLog {
  readonly #log: Logger;
  readonly #downSince = new Map<Dependency, number>();

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Whether `dependency` is known to be down now. */
  isDown(dependency: Dependency): boolean {
    return this.#downSince.has(dependency);
  }

  /** Records a failure of `dependency`; logs only the first one of an outage. */
  down(dependency: Dependency, err?: unknown): void {
    if (this.#downSince.has(dependency)) return;
    this.#downSince.set(dependency, Date.now());
    const reason = err instanceof Error ? err.message : err === undefined ? undefined : String(err);
    this.#log.warn({ dependency, state: "down", reason }, `${dependency} unavailable`);
  }

  /** Records that `dependency` answered; logs only the end of an outage. */
  up(dependency: Dependency): void {
    const since = this.#downSince.get(dependency);
    if (since === undefined) return;
    this.#downSince.delete(dependency);
    this.#log.info({ dependency, state: "up", downMs: Date.now() - since }, `${dependency} available again`);
  }

  /** If `err` is a dependency's connection failure, records it and says whose; otherwise undefined (a real failure). */
  failure(err: unknown): Dependency | undefined {
    const dependency = dependencyFailure(err);
    if (dependency) this.down(dependency, err);
    return dependency;
  }
}
