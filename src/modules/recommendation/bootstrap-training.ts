/**
 * A system that learns from its first data: when a worker starts and no model has been published yet, but enough
 * interactions exist to learn from, it enqueues a training run at once instead of waiting for the nightly one
 * (REC_TRAIN_CRON). The run is the ordinary `train` job (then `score-all`), under a fixed job id, so several
 * workers starting together enqueue one.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Queue } from "bullmq";
import type { Logger } from "../../platform/logger.ts";
import type { ModelStore } from "./model-store.ts";
import { JOBS, type TrainPayload } from "./rescore-queue.ts";

/** The job id of the start-up training (one at a time; a finished one is replaced when there is still no model). */
export const BOOTSTRAP_TRAIN_JOB_ID = "train-bootstrap";

export type BootstrapOutcome = "model exists" | "too few interactions" | "already queued" | "enqueued" | "disabled";

export async function trainIfNoModel(deps: { orm: MikroORM; store: ModelStore; scoringQueue: Queue; log: Logger }, minInteractions: number): Promise<BootstrapOutcome> {
  if (minInteractions <= 0) return "disabled";
  if ((await deps.store.meta()) !== null) return "model exists";
  // Counting stops at the threshold: on a big table this stays cheap.
  const [row] = await deps.orm.em.fork().execute<{ n: number }[]>("select count(*)::int as n from (select 1 from user_movie_interactions limit ?) t", [minInteractions]);
  const found = row?.n ?? 0;
  if (found < minInteractions) {
    deps.log.info({ interactions: found, needed: minInteractions }, "no model yet, and too few interactions to train one at start");
    return "too few interactions";
  }
  const existing = await deps.scoringQueue.getJob(BOOTSTRAP_TRAIN_JOB_ID);
  if (existing) {
    const state = await existing.getState();
    if (state !== "completed" && state !== "failed" && state !== "unknown") return "already queued";
    // An earlier start-up training finished, yet no model is published (Redis lost it, or the run failed): again.
    await existing.remove().catch(() => undefined);
  }
  await deps.scoringQueue.add(JOBS.train, { evaluate: false } satisfies TrainPayload, { jobId: BOOTSTRAP_TRAIN_JOB_ID, removeOnComplete: 10, removeOnFail: 10 });
  await deps.store.setTraining({ state: "queued", jobId: BOOTSTRAP_TRAIN_JOB_ID, lastError: "" });
  deps.log.info({ jobId: BOOTSTRAP_TRAIN_JOB_ID }, "no model yet: training at start");
  return "enqueued";
}
