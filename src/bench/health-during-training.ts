/**
 * Health while training (issue 10): the API server and a scoring worker in one process, as in the served evaluation
 * (the harshest layout: one event loop for both), a MovieLens ratings file loaded as `rating` interactions, and a
 * training job run by the real worker while `/healthz` is polled. The fit runs in a worker thread, so the event loop
 * should stay free: every probe answers SERVING, promptly. Shared by `npm run bench:training-health` (the figures) and
 * tests/recommendation/training-health.test.ts (on the in-repo sample, asserting only what load cannot break).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { QueueEvents } from "bullmq";
import type { Config } from "../platform/config.ts";
import type { Logger } from "../platform/logger.ts";
import { bullConnection, queuePrefix } from "../platform/queues.ts";
import { createRecommendationModule } from "../modules/recommendation/index.ts";
import { closeAppDeps, dependencyProbes, openAppDeps } from "../server/app-deps.ts";
import { buildAuthenticator, buildImpls } from "../server/impls.ts";
import { startServer } from "../server/server.ts";
import { startWorkers } from "../worker/workers.ts";
import { readRatings } from "../eval/ratings-file.ts";
import { loadSplit, readMovieInfo } from "../eval/served-eval.ts";

/** Probe latencies and event-loop stalls of one stage of the run. */
export interface StageFigures {
  probes: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** The longest event-loop stall (a 10 ms timer firing late), ms. */
  stallMaxMs: number;
}

export interface HealthDuringTraining {
  ratings: number;
  /** Probes sent while the training and the batch scoring ran, and the answers that were not 200 SERVING. */
  probes: number;
  failures: string[];
  /**
   * Per stage: `idle` (the same probes for `controlMs` before the job: what the machine's load alone does to them),
   * `training` (job queued → published) and `scoring` (the batch scoring the training enqueues).
   */
  stages: { idle: StageFigures; training: StageFigures; scoring: StageFigures };
  /** The event loop's longest delay from the job's start to the end (perf_hooks histogram, 10 ms resolution). */
  loopDelayMaxMs: number;
  /** Until the training job finished, and until the batch scoring after it finished too. */
  trainSeconds: number;
  totalSeconds: number;
  /** The job's phases as it reported them (loading, tuning, fitting, …). */
  phases: string[];
  /** Every event-loop stall over 100 ms, with the job's phase it happened in: where to look. */
  stalls: { atSeconds: number; ms: number; phase: string }[];
}

/** Loads `ratingsPath` into the (migrated, empty) database of `config`, trains once, and probes health meanwhile. */
export async function healthDuringTraining(config: Config, log: Logger, opts: { ratingsPath: string; intervalMs?: number; controlMs?: number; timeoutMs?: number }): Promise<HealthDuringTraining> {
  const deps = await openAppDeps(config, log);
  const mod = createRecommendationModule(deps);
  const workers = startWorkers({ redisUrl: config.redisUrl, prefix: config.redisPrefix, log, processors: { scoring: mod.processors } });
  const events = new QueueEvents("scoring", { connection: bullConnection(config.redisUrl, true), prefix: queuePrefix(config.redisUrl, config.redisPrefix, "scoring") });
  const server = await startServer({ config, log, probes: dependencyProbes(deps), impls: buildImpls(deps), authenticate: buildAuthenticator(deps) });
  try {
    const ratings = readRatings(opts.ratingsPath);
    await loadSplit(deps, ratings, { train: ratings, test: { user: new Int32Array(0), item: new Int32Array(0), time: new Float64Array(0) } }, readMovieInfo(opts.ratingsPath));
    await events.waitUntilReady();
    const url = `http://127.0.0.1:${server.port}/healthz`;
    // One probe before: the server answers at all (a failure here is not the training's).
    const first = await fetch(url);
    if (first.status !== 200) throw new Error(`/healthz answers ${first.status} before any training`);

    const loop = monitorEventLoopDelay({ resolution: 10 });
    const probes: Record<keyof HealthDuringTraining["stages"], number[]> = { idle: [], training: [], scoring: [] };
    const stallMax = { idle: 0, training: 0, scoring: 0 };
    let stage: keyof HealthDuringTraining["stages"] = "idle";
    const failures: string[] = [];
    const phases: string[] = [];
    const stalls: HealthDuringTraining["stalls"] = [];
    let phase = "idle";
    let started = performance.now();
    let tick = performance.now();
    const watch = setInterval(() => {
      const t = performance.now();
      const ms = t - tick - 10;
      stallMax[stage] = Math.max(stallMax[stage], ms);
      if (ms > 100 && stage !== "idle") stalls.push({ atSeconds: (tick - started) / 1000, ms, phase });
      tick = t;
    }, 10);
    let done = false;
    const probeLoop = (async () => {
      while (!done) {
        const t = performance.now();
        const at = stage;
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
          const body = (await res.json()) as { status?: string };
          if (res.status !== 200 || body.status !== "SERVING") failures.push(`${res.status} ${JSON.stringify(body)}`);
        } catch (err) {
          failures.push(String(err));
        }
        probes[at].push(performance.now() - t);
        await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
      }
    })();
    // The control: the same probes with nothing running in this process.
    await new Promise((r) => setTimeout(r, opts.controlMs ?? 10_000));
    stage = "training";
    phase = "queued";
    started = performance.now();
    loop.enable();
    const { jobId } = await mod.service.startTraining(`health-${Date.now()}`, false);
    const job = (await deps.queues.scoring.getJob(jobId))!;
    let trainSeconds = 0;
    events.on("progress", ({ jobId: id, data }) => {
      const p = (data as { phase?: string } | undefined)?.phase;
      if (id === jobId && p && phases.at(-1) !== p) phases.push((phase = p));
    });
    // Probed until the training and the batch scoring it enqueues have both finished (both share this event loop).
    try {
      const meta = (await job.waitUntilFinished(events, opts.timeoutMs ?? 3_600_000)) as { version: string };
      trainSeconds = (performance.now() - started) / 1000;
      stage = "scoring";
      phase = "batch scoring";
      let scoreAll = await deps.queues.scoring.getJob(`score-all-${meta.version}`);
      for (let k = 0; k < 100 && !scoreAll; k++) {
        await new Promise((r) => setTimeout(r, 100));
        scoreAll = await deps.queues.scoring.getJob(`score-all-${meta.version}`);
      }
      if (!scoreAll) throw new Error("the training enqueued no batch scoring");
      await scoreAll.waitUntilFinished(events, opts.timeoutMs ?? 3_600_000);
    } finally {
      done = true;
      await probeLoop;
      loop.disable();
      clearInterval(watch);
    }
    const totalSeconds = (performance.now() - started) / 1000;
    const figures = (k: keyof typeof probes): StageFigures => {
      const sorted = probes[k].slice().sort((a, b) => a - b);
      const q = (x: number) => sorted[Math.min(sorted.length - 1, Math.floor(x * sorted.length))] ?? 0;
      return { probes: sorted.length, latencyMs: { p50: q(0.5), p99: q(0.99), max: sorted.at(-1) ?? 0 }, stallMaxMs: stallMax[k] };
    };
    return {
      ratings: ratings.user.length,
      probes: probes.training.length + probes.scoring.length,
      failures,
      stages: { idle: figures("idle"), training: figures("training"), scoring: figures("scoring") },
      loopDelayMaxMs: loop.max / 1e6,
      trainSeconds,
      totalSeconds,
      phases,
      stalls,
    };
  } finally {
    await server.close();
    await events.close();
    await workers.close();
    await deps.queues.scoring.obliterate({ force: true }).catch(() => undefined);
    await closeAppDeps(deps);
  }
}
