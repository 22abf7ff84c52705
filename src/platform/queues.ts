import { Queue, type JobsOptions, type ConnectionOptions } from "bullmq";
import { Cluster } from "ioredis";
import { createCluster, hashTag, isClusterUrl, redisOptions } from "./redis.ts";
import { bullTelemetry } from "./tracing.ts";

/**
 * One typed table of queues and their default job options. Later modules add job names;
 * payloads carry ids only and job ids are deterministic so duplicates collapse.
 */
export const QUEUES = {
  /** Model training, batch and incremental recommendation scoring. */
  scoring: { attempts: 3, backoff: { type: "exponential", delay: 2000 } },
  /** Email and push delivery, digests. */
  // Jitter spreads the retries of a batch that failed together (a relay outage) so they do not return in step.
  delivery: { attempts: 8, backoff: { type: "exponential", delay: 1000, jitter: 0.5 } },
  /** TMDb imports: a queue of their own so a long import never delays delivery. */
  "catalog-import": { attempts: 3, backoff: { type: "exponential", delay: 5000 } },
  /** Aggregations and partition maintenance. */
  analytics: { attempts: 3, backoff: { type: "exponential", delay: 5000 } },
} as const satisfies Record<string, JobsOptions>;

export type QueueName = keyof typeof QUEUES;
export const QUEUE_NAMES = Object.keys(QUEUES) as QueueName[];

/**
 * BullMQ connection options; workers need `maxRetriesPerRequest: null` (blocking commands). For a cluster URL, a
 * Cluster client (BullMQ takes no cluster options): its owner closes it with `closeBullConnection` after BullMQ.
 */
export function bullConnection(redisUrl: string, forWorker: boolean): ConnectionOptions {
  if (isClusterUrl(redisUrl)) return createCluster(redisUrl, { forWorker, name: forWorker ? "movierec-worker" : "movierec-queues" });
  const o = redisOptions(redisUrl);
  return { host: o.host, port: o.port, db: o.db, username: o.username, password: o.password, tls: o.tls, maxRetriesPerRequest: forWorker ? null : 1, enableOfflineQueue: forWorker };
}

/**
 * The BullMQ prefix of `queue`. On one Redis the deployment's prefix (keys `movierec:scoring:…`, unchanged). On a
 * cluster a hash tag of the queue's own (`{movierec-scoring}:scoring:…`): BullMQ's scripts and MULTI blocks touch
 * many keys of one queue, so a queue must live in one slot, and with a slot per queue the queues spread over the
 * masters. A flow's parent and children must share a slot too: ours (score-all and its score-range children) stay
 * in the `scoring` queue; a flow across two queues would fail with CROSSSLOT on a cluster.
 */
export function queuePrefix(redisUrl: string, prefix: string, queue: string): string {
  return isClusterUrl(redisUrl) ? hashTag(`${prefix}-${queue}`) : prefix;
}

export type Queues = Readonly<Record<QueueName, Queue>> & { close(): Promise<void> };

/**
 * Opens a producer for every queue. Their connections' errors (one per reconnection attempt while Redis is down)
 * go to `onError`; without a listener ioredis would print each to stderr.
 */
export function createQueues(redisUrl: string, prefix: string, onError: (err: Error) => void = () => undefined): Queues {
  const connection = bullConnection(redisUrl, false);
  // With tracing on, every add records a producer span and stores its W3C context in the job (see platform/tracing.ts).
  const telemetry = bullTelemetry();
  const entries = QUEUE_NAMES.map((name) => {
    const queue = new Queue(name, { connection, prefix: queuePrefix(redisUrl, prefix, name), telemetry, defaultJobOptions: { ...QUEUES[name], removeOnComplete: 1000, removeOnFail: 5000 } });
    queue.on("error", onError);
    return [name, queue] as const;
  });
  const queues = Object.fromEntries(entries) as Record<QueueName, Queue>;
  return Object.freeze({
    ...queues,
    async close() {
      await Promise.all(entries.map(([, q]) => q.close()));
      await closeBullConnection(connection);
    },
  });
}

/** Closes a connection `bullConnection` made as a client (cluster mode); BullMQ leaves clients it was given open. */
export async function closeBullConnection(connection: ConnectionOptions): Promise<void> {
  if (connection instanceof Cluster) await connection.quit().catch(() => connection.disconnect());
}
