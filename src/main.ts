/**
 * Entry point and role switch: `node src/main.ts <serve|worker|migrate|migrate-down|partitions|import>`.
 * Every role reads the configuration once, and shuts down cleanly on SIGTERM/SIGINT.
 */
// First: tracing must be set up before `pg` is loaded by the imports below (off, it loads nothing).
import "./platform/tracing-start.ts";
import { stopTracing } from "./platform/tracing.ts";
import { ConfigError, loadConfig, type Config } from "./platform/config.ts";
import { createLogger, type Logger } from "./platform/logger.ts";
import { exitWithIpcParent } from "./platform/parent-watch.ts";
import { openOrm } from "./platform/orm.ts";
import { notifyReady, shouldFork, startCluster } from "./platform/process-cluster.ts";
import { serveClusterMetrics } from "./server/cluster-metrics.ts";
import { migrateDown, migrateUp } from "./platform/migrations.ts";
import { ensurePartitions } from "./platform/partitions.ts";
import { startServer } from "./server/server.ts";
import { startWorkers } from "./worker/workers.ts";
import { buildProcessors } from "./worker/processors.ts";
import { keepSchedules } from "./worker/schedules.ts";
import { closeAppDeps, dependencyProbes, openAppDeps } from "./server/app-deps.ts";
import { buildAuthenticator, buildImpls } from "./server/impls.ts";
import { createServerMetrics } from "./server/metrics-endpoint.ts";
import { aggregateDay, daysBetween, nativePool, utcDay } from "./modules/analytics/index.ts";

type Role = (config: Config, log: Logger) => Promise<(() => Promise<void>) | void>;

/** The primary of `serve`/`worker` with N processes: forks them, (for the server) merges their metrics, stops them. */
async function supervise(config: Config, log: Logger, processes: number, server: boolean): Promise<() => Promise<void>> {
  if (server) serveClusterMetrics();
  const running = await startCluster({ processes, log, killAfterMs: config.shutdownGraceMs + 5000 });
  void running.failed.then(async (e) => {
    log.error({ err: e }, "stopping");
    await running.stop();
    process.exit(1);
  });
  return () => running.stop();
}

const ROLES: Record<string, Role> = {
  async serve(config, log) {
    if (shouldFork(config.serverProcesses)) return supervise(config, log, config.serverProcesses, true);
    const deps = await openAppDeps(config, log);
    const metrics = createServerMetrics(deps);
    const server = await startServer({ config, log, probes: dependencyProbes(deps), impls: buildImpls(deps), authenticate: buildAuthenticator(deps), metrics });
    // SIGHUP re-reads the TLS certificate files (the files are also polled, TLS_RELOAD_POLL_MS).
    process.on("SIGHUP", () => server.reloadTls());
    return async () => {
      await server.close();
      await metrics.close(); // the last interval's RPC metrics
      await closeAppDeps(deps);
    };
  },
  async worker(config, log) {
    if (shouldFork(config.workerProcesses)) return supervise(config, log, config.workerProcesses, false);
    const deps = await openAppDeps(config, log);
    const built = buildProcessors(deps);
    // A dead worker's jobs are found by BullMQ's stalled-job check and run again by another worker.
    const workers = startWorkers({ redisUrl: config.redisUrl, prefix: config.redisPrefix, log, processors: built.processors, lockDurationMs: config.workerLockMs, stalledIntervalMs: config.workerLockMs, dependencies: deps.dependencies });
    // Registers every repeatable job now, and again whenever Redis lost them (restarted empty, flushed).
    // Not awaited: with Redis down at start the keeper retries, and SIGTERM must not wait for it.
    const schedules = keepSchedules({ redis: deps.redis, register: built.schedule, log, checkMs: config.workerScheduleCheckMs });
    built.atStart().catch((err: unknown) => log.warn({ err: String(err) }, "start-up jobs not enqueued"));
    return async () => {
      schedules.close();
      await workers.close();
      await closeAppDeps(deps);
    };
  },
  async migrate(config, log) {
    const orm = await openOrm(config.databaseUrl);
    try {
      const applied = await migrateUp(orm);
      const partitions = await ensurePartitions(orm, { now: new Date(), monthsAhead: 3 });
      log.info({ applied, partitions }, "database is up to date");
    } finally {
      await orm.close();
    }
  },
  async "migrate-down"(config, log) {
    const orm = await openOrm(config.databaseUrl);
    try {
      await migrateDown(orm);
      log.info("all migrations rolled back");
    } finally {
      await orm.close();
    }
  },
  /** `npm run datasets -- DIR [--from SRC] [--offline]`: checks (SHA-256) or downloads the public datasets into DIR. */
  async datasets() {
    const { runDatasetsCommand } = await import("./modules/catalog/dataset-files.ts");
    const code = await runDatasetsCommand(process.argv.slice(3), (line) => console.log(line));
    if (code !== 0) process.exit(code);
  },
  /** `npm run import -- <tmdb-5000|movielens|all> [--data-dir DIR] [--limit N]`: bulk-loads the public datasets. */
  async import(config) {
    const { runImportCommand } = await import("./modules/catalog/dataset-import.ts");
    const { loadLine, machineLine } = await import("./bench/conditions.ts");
    // Its rows/s figures end up in README.md: print the conditions they were measured under with them.
    console.log(machineLine());
    await runImportCommand(config, process.argv.slice(3), (line) => console.log(line));
    console.log(`at the end: ${loadLine()}`);
  },
  /** `npm run backfill -- [FROM [TO]]`: aggregates the UTC days FROM..TO (default: yesterday) into popularity_metrics. */
  async backfill(config) {
    const yesterday = utcDay(new Date(Date.now() - 86_400_000));
    const [from = yesterday, to = from] = process.argv.slice(3);
    const orm = await openOrm(config.databaseUrl);
    try {
      for (const day of daysBetween(from, to)) console.log(JSON.stringify(await aggregateDay(await nativePool(orm)(), day)));
    } finally {
      await orm.close();
    }
  },
  async partitions(config, log) {
    const orm = await openOrm(config.databaseUrl);
    try {
      const created = await ensurePartitions(orm, { now: new Date(), monthsAhead: 3 });
      log.info({ created }, "partitions ensured");
    } finally {
      await orm.close();
    }
  },
};

async function main(): Promise<void> {
  const roleName = process.argv[2] ?? "serve";
  const role = ROLES[roleName];
  if (!role) {
    console.error(`usage: node src/main.ts <${Object.keys(ROLES).join("|")}>`);
    process.exit(2);
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger({ level: config.logLevel, name: `movierec-${roleName}`, format: config.logFormat });
  // A bad request must never take the process down; log what escaped and keep serving.
  process.on("unhandledRejection", (e) => log.error({ err: e }, "unhandled rejection"));
  // Signals are handled from the very start: one that arrives during start-up waits for it.
  let stop: (() => Promise<void>) | void = undefined;
  let started = false;
  let signalled: string | undefined;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = signal;
    if (!started) return; // start-up finishes first, then sees `signalled`
    log.info({ signal }, "shutting down");
    // The last spans are flushed after everything else stopped (a no-op when tracing is off).
    (stop ? stop() : Promise.resolve()).then(stopTracing).then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGHUP", () => shutdown("SIGHUP"));
  // Started by `npm run demo` (with an IPC channel): stop with it, even when it was killed hard.
  exitWithIpcParent(() => shutdown("parent exited"));
  stop = await role(config, log);
  started = true;
  notifyReady(); // a copy in a cluster: the primary's start-up waits for this
  if (!stop) {
    process.exitCode = 0;
    process.removeAllListeners("SIGTERM");
    process.removeAllListeners("SIGINT");
    process.removeAllListeners("SIGHUP");
    return;
  }
  if (signalled) {
    const signal = signalled;
    signalled = undefined;
    shutdown(signal);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
