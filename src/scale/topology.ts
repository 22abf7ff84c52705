/**
 * The multi-node topology of `npm run test:scale`, on this machine, from Debian's and npm's packages: a Redis Cluster
 * (3 masters + 3 replicas), a PostgreSQL primary with one streaming replica, a local SMTP server, and the real app —
 * 2 API processes (`node src/main.ts serve`) and 2 worker processes (`worker`) — configured as an operator would
 * (REDIS_URL=redis+cluster://…, DATABASE_URL=primary, DATABASE_REPLICA_URLS=replica). Everything started is
 * registered for `stop()`, which runs even when a step failed or the run was interrupted.
 */
import { startRedisCluster, type RedisClusterNodes } from "../platform/dev-infra-redis-cluster.ts";
import { startReplicatedPostgres, type ReplicatedPostgres } from "../platform/dev-infra-replicated-postgres.ts";
import { startWorkerProcess, type WorkerProcess } from "../platform/dev-infra-role-process.ts";
import { loadConfig } from "../platform/config.ts";
import { createLogger } from "../platform/logger.ts";
import { migrateUp } from "../platform/migrations.ts";
import { openOrm } from "../platform/orm.ts";
import { ensurePartitions } from "../platform/partitions.ts";
import { closeAppDeps, openAppDeps, type AppDeps } from "../server/app-deps.ts";
import { startSmtpSink, type SmtpSink } from "./smtp-sink.ts";

/** Redis prefix of the run (REDIS_PREFIX). */
export const SCALE_PREFIX = "scale";

export interface AppNode {
  /** "api-a", "api-b", "worker-a", "worker-b" (also the processes' PostgreSQL application_name). */
  readonly name: string;
  readonly role: "serve" | "worker";
  proc: WorkerProcess;
  /** http://127.0.0.1:<port> of an API process. */
  baseUrl: string;
}

export interface Topology {
  readonly cluster: RedisClusterNodes;
  readonly pg: ReplicatedPostgres;
  readonly smtp: SmtpSink;
  /** The run's own connections (primary only, the cluster, the queues), for set-up and checks. */
  readonly control: AppDeps;
  readonly apis: readonly [AppNode, AppNode];
  readonly workers: [AppNode, AppNode];
  /** Starts (again) the worker process `name` and waits until its BullMQ workers run. */
  startWorker(name: string): Promise<AppNode>;
  stop(): Promise<void>;
}

/** Stops what was started, last first; each step bounded so one stuck process cannot hold the rest. */
export class Cleanup {
  readonly #steps: { what: string; run: () => Promise<unknown> }[] = [];
  add(what: string, run: () => Promise<unknown>): void {
    this.#steps.unshift({ what, run });
  }
  async run(log: (msg: string) => void): Promise<void> {
    for (const step of this.#steps.splice(0)) {
      let timer: NodeJS.Timeout | undefined;
      const bounded = new Promise((resolve) => (timer = setTimeout(() => resolve("timeout"), 20_000)));
      const outcome = await Promise.race([step.run().then(() => "ok", (e: unknown) => `failed: ${String(e)}`), bounded]);
      clearTimeout(timer);
      if (outcome !== "ok") log(`cleanup: ${step.what} ${String(outcome)}`);
    }
  }
}

/** Environment of one app process (everything else is the app's default). */
function appEnv(name: string, cluster: RedisClusterNodes, pg: ReplicatedPostgres, smtpPort: number): Record<string, string> {
  const named = (url: string) => `${url}?application_name=movierec-${name}`;
  return {
    NODE_ENV: "test",
    LOG_LEVEL: "info",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: named(pg.primaryUrl),
    DATABASE_REPLICA_URLS: named(pg.replicaUrl),
    REDIS_URL: cluster.url,
    REDIS_PREFIX: SCALE_PREFIX,
    DB_POOL_MAX: "4",
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(smtpPort),
    // Training only when asked (StartTraining), without tuning: the run measures scoring, not the tuner.
    REC_TRAIN_CRON: "off",
    REC_TUNE_SECONDS: "0",
    REC_BOOTSTRAP_MIN_INTERACTIONS: "0",
    REC_RESCORE_DEBOUNCE_MS: "0",
    REC_TOP_N: "50",
    REC_SCORE_SHARD_USERS: "500",
    ALERTS_CRON: "off",
    DIGEST_TICK_MS: "3600000",
    // A dead worker's jobs are taken over within about twice this (BullMQ's stalled check).
    WORKER_LOCK_MS: "10000",
  };
}

async function startApp(name: string, role: "serve" | "worker", env: Record<string, string>): Promise<AppNode> {
  const proc = startWorkerProcess(env, role);
  if (role === "worker") {
    await proc.waitForLog((l) => l.msg === "workers started", 120_000);
    return { name, role, proc, baseUrl: "" };
  }
  const line = await proc.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("listening") && typeof l.port === "number", 120_000);
  return { name, role, proc, baseUrl: `http://127.0.0.1:${String(line.port)}` };
}

/** Starts the infrastructure, migrates the primary, runs `seed` on it, then starts the four app processes. */
export async function startTopology(cleanup: Cleanup, log: (msg: string) => void, seed: (control: AppDeps) => Promise<void>): Promise<Topology> {
  log("starting a Redis Cluster (3 masters + 3 replicas) and PostgreSQL (primary + streaming replica)");
  const [cluster, pg, smtp] = await Promise.all([
    startRedisCluster().then((c) => (cleanup.add("redis cluster", () => c.destroy()), c)),
    startReplicatedPostgres().then((p) => {
      if (!p) throw new Error("PostgreSQL's server binaries (with pg_basebackup) were not found under /usr/lib/postgresql/*/bin: install Debian's postgresql package (apt-get install postgresql)");
      cleanup.add("postgresql primary and replica", () => p.destroy());
      return p;
    }),
    startSmtpSink().then((s) => (cleanup.add("smtp server", () => s.close()), s)),
  ]);
  log(`redis cluster ${cluster.url}; postgres primary ${pg.primaryUrl}, replica ${pg.replicaUrl}; smtp 127.0.0.1:${smtp.port}`);

  const orm = await openOrm(pg.primaryUrl, { poolMax: 2 });
  try {
    await migrateUp(orm);
    await ensurePartitions(orm, { now: new Date(), monthsAhead: 1 });
  } finally {
    await orm.close();
  }
  const controlEnv = { ...appEnv("control", cluster, pg, smtp.port), DATABASE_REPLICA_URLS: "", DB_POOL_MAX: "4" };
  const control = await openAppDeps(loadConfig(controlEnv), createLogger({ level: "silent" }));
  cleanup.add("control connections", () => closeAppDeps(control));
  await seed(control);
  await pg.caughtUp(60_000);

  const start = async (name: string, role: "serve" | "worker") => {
    const node = await startApp(name, role, appEnv(name, cluster, pg, smtp.port));
    cleanup.add(name, () => node.proc.kill("SIGKILL"));
    return node;
  };
  log("starting 2 API processes and 2 worker processes (node src/main.ts serve | worker)");
  const [apiA, apiB, workerA, workerB] = await Promise.all([start("api-a", "serve"), start("api-b", "serve"), start("worker-a", "worker"), start("worker-b", "worker")]);
  const workers: [AppNode, AppNode] = [workerA, workerB];
  return {
    cluster,
    pg,
    smtp,
    control,
    apis: [apiA, apiB],
    workers,
    async startWorker(name) {
      const k = workers.findIndex((w) => w.name === name);
      if (k < 0) throw new Error(`no worker ${name}`);
      const node = await start(name, "worker");
      workers[k] = node;
      return node;
    },
    stop: () => cleanup.run(log),
  };
}
