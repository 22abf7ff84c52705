/**
 * Training on one worker, prediction on all: StartTraining through an API, then full scoring runs (`score-all`,
 * split into ranges of REC_SCORE_SHARD_USERS) timed with both worker processes and with one. With two, both must
 * have taken ranges (their `score range done` log lines name the run) and every scorable user must be scored once.
 */
import type { Queue } from "bullmq";
import { TrainingState } from "../../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { JOBS } from "../../modules/recommendation/rescore-queue.ts";
import { waitUntil } from "../../platform/wait-until.ts";
import { as, type Api } from "../api.ts";
import { check, msSince } from "../report.ts";
import type { AppNode } from "../topology.ts";

/** Trains through `a` (the job runs on whichever worker takes it), waits through `b` for the published model; returns its version. */
export async function trainModel(a: Api, b: Api, staffToken: string, timeoutMs: number): Promise<{ version: string; ms: number }> {
  const t0 = performance.now();
  await a.recommendation.startTraining({}, as(staffToken));
  const version = await waitUntil("a trained model (GetModelStatus)", async () => {
    const { status } = await b.recommendation.getModelStatus({}, as(staffToken));
    if (status?.trainingState === TrainingState.FAILED) throw new Error(`training failed: ${status.lastError}`);
    return status?.modelVersion && status.trainingState === TrainingState.IDLE ? status.modelVersion : undefined;
  }, timeoutMs, 250);
  return { version, ms: msSince(t0) };
}

/** Waits for a score-all job to finish; its totals. */
export async function scoringRunDone(queue: Queue, jobId: string, timeoutMs: number, explain: () => string): Promise<{ users: number; shards: number }> {
  return waitUntil(`score-all ${jobId}`, async () => {
    const job = await queue.getJob(jobId);
    const state = await job?.getState();
    if (state === "failed") throw new Error(`score-all ${jobId} failed: ${job?.failedReason}`);
    if (state !== "completed") return undefined;
    // Read again: the job fetched before getState may predate its completion (no return value yet).
    const done = await queue.getJob(jobId);
    return (done?.returnvalue as { users: number; shards: number } | null) ?? undefined;
  }, timeoutMs, 100, explain);
}

export interface ScoringRun {
  seconds: number;
  users: number;
  shards: number;
  /** Ranges each worker process finished, by name. */
  rangesBy: Record<string, number>;
}

/** One full scoring run with the workers in `workers`; `label` names it (distinct job and version). */
export async function timedScoringRun(queue: Queue, version: string, label: string, workers: readonly AppNode[], timeoutMs: number): Promise<ScoringRun> {
  const runVersion = `${version}-${label}`;
  const jobId = `score-all-${runVersion}`;
  const t0 = performance.now();
  await queue.add(JOBS.scoreAll, { version: runVersion }, { jobId });
  const explain = () => workers.map((w) => `${w.name}: ${w.proc.lines.slice(-5).map((l) => JSON.stringify(l)).join("\n")}`).join("\n");
  const totals = await scoringRunDone(queue, jobId, timeoutMs, explain);
  const seconds = msSince(t0) / 1000;
  const rangesBy: Record<string, number> = {};
  for (const w of workers) rangesBy[w.name] = w.proc.lines.filter((l) => l.msg === "score range done" && l.version === runVersion).length;
  const taken = Object.values(rangesBy).reduce((x, y) => x + y, 0);
  check(taken === totals.shards, `score-all ${label}: the workers logged ${taken} finished ranges, the run had ${totals.shards}`);
  return { seconds, users: totals.users, shards: totals.shards, rangesBy };
}
