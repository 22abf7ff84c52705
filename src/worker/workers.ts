import { hostname } from "node:os";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import type { DependencyLog } from "../platform/dependency-log.ts";
import { isSocketFailure } from "../platform/errors.ts";
import type { Logger } from "../platform/logger.ts";
import { QUEUE_NAMES, bullConnection, closeBullConnection, queuePrefix, type QueueName } from "../platform/queues.ts";
import { bullTelemetry } from "../platform/tracing.ts";

/** A job processor: receives the job (payload = ids only) and a job-scoped logger. */
export type Processor = (job: Job, log: Logger, token?: string) => Promise<unknown>;

/** Processors by queue, then by job name. Modules contribute theirs (see each module's *.jobs.ts). */
export type ProcessorTable = Partial<Record<QueueName, Record<string, Processor>>>;

export interface RunningWorkers {
  readonly workers: readonly Worker[];
  /** Stops taking jobs, waits for the running ones, closes connections. */
  close(): Promise<void>;
}

/** Starts one BullMQ worker per queue; a job whose name has no processor fails at once, unretried. */
export function startWorkers(opts: { redisUrl: string; prefix: string; log: Logger; processors: ProcessorTable; concurrency?: number; lockDurationMs?: number; stalledIntervalMs?: number; dependencies?: DependencyLog }): RunningWorkers {
  const connections = QUEUE_NAMES.map(() => bullConnection(opts.redisUrl, true));
  const workers = QUEUE_NAMES.map((queue) => {
    const table = opts.processors[queue] ?? {};
    const worker = new Worker(
      queue,
      async (job, token) => {
        const log = opts.log.child({ queue, job: job.name, jobId: job.id, attempt: job.attemptsMade + 1 });
        const processor = table[job.name];
        if (!processor) throw new UnrecoverableError(`no processor for job "${job.name}" on queue "${queue}"`);
        const started = performance.now();
        const result = await processor(job, log, token);
        log.info({ durationMs: Math.round(performance.now() - started) }, "job done");
        return result;
      },
      // `name` is recorded on each job it takes (processedBy): which process ran, or died running, a job.
      { name: `${hostname()}:${process.pid}`, connection: connections[QUEUE_NAMES.indexOf(queue)]!, prefix: queuePrefix(opts.redisUrl, opts.prefix, queue), telemetry: bullTelemetry(), concurrency: opts.concurrency ?? 4, autorun: true, ...(opts.lockDurationMs ? { lockDuration: opts.lockDurationMs } : {}), ...(opts.stalledIntervalMs ? { stalledInterval: opts.stalledIntervalMs } : {}) },
    );
    // A job or the worker's own connection failing because PostgreSQL or Redis is down is that dependency's state
    // change, logged once by the DependencyLog; the job is retried with backoff as usual. Other failures are logged.
    worker.on("failed", (job, err) => {
      const fields = { queue, job: job?.name, jobId: job?.id, err: err.message };
      if (opts.dependencies?.failure(err)) opts.log.debug(fields, "job failed: dependency unavailable");
      else opts.log.warn(fields, "job failed");
    });
    worker.on("error", (err) => {
      // The worker's errors are about its Redis connections: a refused reconnection is Redis being down.
      if (opts.dependencies && (isSocketFailure(err) || opts.dependencies.failure(err))) opts.dependencies.down("redis", err);
      else opts.log.error({ queue, err: err.message }, "worker error");
    });
    return worker;
  });
  opts.log.info({ queues: QUEUE_NAMES }, "workers started");
  return {
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(connections.map(closeBullConnection));
    },
  };
}
