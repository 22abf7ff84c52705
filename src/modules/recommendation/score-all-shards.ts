/**
 * A full scoring run (`score-all`, enqueued after each training) split into user-range shards that every worker
 * process takes from the scoring queue, so adding worker processes makes a full run faster — training stays on one
 * node (train-lock.ts), prediction runs everywhere (as Gorse's workers do).
 *
 * The run is a BullMQ parent job with dynamic children (BullMQ's "process step jobs" pattern):
 *  1. plan: the upper bounds of ranges of `shardUsers` scorable users are computed once and stored in the job's
 *     data, so a retried plan re-adds exactly the same ranges (deterministic child ids collapse into the same jobs);
 *  2. the `score-range` children are added with the run as their parent; the run waits in `waiting-children`;
 *  3. when the last child completes BullMQ hands the run back to a worker, which refreshes the planner statistics
 *     and returns the totals (from the children's return values).
 * Exactly once per user per run: the ranges are disjoint and cover every id (the last one is open-ended, so a user
 * who becomes scorable during the run is covered too); a range is one job, held by one worker at a time under
 * BullMQ's lock; a range retried after its worker died resumes after its last committed batch (job progress), and
 * scoring a user again only rewrites the same rows. A range that fails all its attempts fails the run.
 *
 * Progress: each finished range is logged with how many of the run's ranges are done (a Redis set per run, so a
 * retried range counts once), and the run job's `getDependenciesCount()` gives processed/unprocessed children.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { UnrecoverableError, WaitingChildrenError, type Job, type Queue } from "bullmq";
import type { Logger } from "../../platform/logger.ts";
import type { ModelStore } from "./model-store.ts";
import { JOBS } from "./rescore-queue.ts";
import { analyzeRecommendations, scorableBounds, scoreUserRange, type ScoringOptions } from "./scoring.ts";

/** Scorable users per range by default (REC_SCORE_SHARD_USERS). */
export const DEFAULT_SHARD_USERS = 5000;

/** The `score-all` job's data: the model version it follows, then (once planned) the ranges and its step. */
export interface ScoreAllPayload {
  version: string;
  /** Upper bounds of all ranges but the last (open-ended): range k is (bounds[k-1] ?? 0, bounds[k]]. */
  bounds?: string[];
  step?: "planned" | "scoring";
}

/** One range of a run: the scorable users with ids in (`after`, `upTo`], or after `after` when `upTo` is null. */
export interface ScoreRangePayload {
  version: string;
  shard: number;
  shards: number;
  after: string;
  upTo: string | null;
}

export interface ShardDeps {
  orm: MikroORM;
  redis: Redis;
  store: ModelStore;
  scoringQueue: Queue;
  options: ScoringOptions;
  shardUsers: number;
}

const doneSetKey = (version: string) => `rec:score-run:${version}:done`;

/** Child job id of range `k` of the run for `version` (deterministic: a re-planned run adds nothing new). */
export const rangeJobId = (version: string, k: number) => `score-range-${version.replace(/[^A-Za-z0-9_-]/g, "_")}-${k}`;

/** The `score-all` processor: plans and fans out the ranges, then (handed back when they are done) finishes the run. */
export async function processScoreAll(deps: ShardDeps, job: Job, log: Logger, token: string | undefined): Promise<unknown> {
  const data = job.data as ScoreAllPayload;
  if (data.step === "scoring") return finishRun(deps, job, log);
  if (!(await deps.store.current())) throw new UnrecoverableError("no model has been trained yet");
  if (token === undefined || job.id === undefined) throw new Error("score-all must run on a BullMQ worker (it waits for its ranges)");
  let bounds = data.bounds;
  if (!bounds) {
    bounds = await scorableBounds(deps.orm, deps.shardUsers);
    await job.updateData({ ...data, bounds, step: "planned" } satisfies ScoreAllPayload);
  }
  const shards = bounds.length + 1;
  await deps.scoringQueue.addBulk(
    Array.from({ length: shards }, (_, k) => ({
      name: JOBS.scoreRange,
      data: { version: data.version, shard: k, shards, after: k === 0 ? "0" : bounds[k - 1], upTo: k < shards - 1 ? bounds[k] : null } satisfies ScoreRangePayload,
      opts: { jobId: rangeJobId(data.version, k), parent: { id: job.id!, queue: job.queueQualifiedName }, failParentOnFailure: true },
    })),
  );
  await job.updateData({ ...data, bounds, step: "scoring" } satisfies ScoreAllPayload);
  await job.updateProgress({ step: "scoring", shards });
  log.info({ version: data.version, shards, shardUsers: deps.shardUsers }, "score-all split into ranges");
  // False when every range finished already (a small run on fast workers): then finish here.
  if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
  return finishRun(deps, job, log);
}

async function finishRun(deps: ShardDeps, job: Job, log: Logger) {
  const values = Object.values(await job.getChildrenValues<{ users: number; rows: number }>());
  const users = values.reduce((a, v) => a + (v?.users ?? 0), 0);
  const rows = values.reduce((a, v) => a + (v?.rows ?? 0), 0);
  // The table was just rewritten: fresh statistics (see scoreAllUsers), once per run rather than per range.
  if (users > 0) await analyzeRecommendations(deps.orm);
  const { version } = job.data as ScoreAllPayload;
  await deps.redis.del(doneSetKey(version));
  await job.updateProgress({ step: "done", shards: values.length, users });
  log.info({ users, rows, shards: values.length, version }, "batch scoring done");
  return { users, rows, shards: values.length };
}

/** The `score-range` processor: scores one range (resuming after its last finished batch when retried). */
export async function processScoreRange(deps: ShardDeps, job: Job, log: Logger): Promise<{ users: number; rows: number }> {
  const p = job.data as ScoreRangePayload;
  const stored = await deps.store.current();
  if (!stored) throw new UnrecoverableError("no model has been trained yet");
  const resumed = (job.progress ?? {}) as { after?: string; users?: number };
  const after = String(resumed.after ?? p.after);
  const started = performance.now();
  // Progress counts users from the range's first attempt on, so a resumed range still reports all its users
  // (rows: those written by this attempt).
  const before = resumed.users ?? 0;
  const scored = await scoreUserRange(deps.orm, deps.redis, stored, deps.options, {
    after,
    ...(p.upTo ? { upTo: p.upTo } : {}),
    onBatch: (a, users) => job.updateProgress({ after: a, users: before + users }),
  });
  const done = { users: before + scored.users, rows: scored.rows };
  const key = doneSetKey(p.version);
  const [, [, finished]] = (await deps.redis.multi().sadd(key, String(p.shard)).scard(key).expire(key, 86_400).exec()) as [unknown, [unknown, number]];
  log.info({ version: p.version, shard: p.shard, of: p.shards, finished, users: done.users, ms: Math.round(performance.now() - started) }, "score range done");
  return done;
}
