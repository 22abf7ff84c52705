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
import { bullConnection } from "../platform/queues.ts";
import { createRecommendationModule } from "../modules/recommendation/index.ts";
import { closeAppDeps, dependencyProbes, openAppDeps } from "../server/app-deps.ts";
import { buildAuthenticator, buildImpls } from "../server/impls.ts";
import { startServer } from "../server/server.ts";
import { startWorkers } from "../worker/workers.ts";
import { readRatings } from "../eval/ratings-file.ts";
import { loadSplit, readMovieInfo } from "../eval/served-eval.ts";

export interface HealthDuringTraining {
  ratings: number;
  /** Probes sent while the training and the batch scoring ran, and the answers that were not 200 SERVING (status or error). */
  probes: number;
  failures: string[];
  latencyMs: { p50: number; p99: number; max: number };
  /** The event loop's longest delay meanwhile (perf_hooks histogram, 10 ms resolution). */
  loopDelayMaxMs: number;
  /** Until the training job finished, and until the batch scoring after it finished too. */
  trainSeconds: number;
  totalSeconds: number;
  /** The job's phases as it reported them (loading, tuning, fitting, …). */
  phases: string[];
}

/** Loads `ratingsPath` into the (migrated, empty) database of `config`, trains once, and probes health meanwhile. */
export async function healthDuringTraining(config: Config, log: Logger, opts: { ratingsPath: string; intervalMs?: number; timeoutMs?: number }): Promise<HealthDuringTraining> {
  const deps = await openAppDeps(config, log);
  const mod = createRecommendationModule(deps);
  const workers = startWorkers({ redisUrl: config.redisUrl, prefix: config.redisPrefix, log, processors: { scoring: mod.processors } });
  const events = new QueueEvents("scoring", { connection: bullConnection(config.redisUrl, true), prefix: config.redisPrefix });
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
    const latencies: number[] = [];
    const failures: string[] = [];
    const phases: string[] = [];
    const started = performance.now();
    loop.enable();
    const { jobId } = await mod.service.startTraining(`health-${Date.now()}`, false);
    const job = (await deps.queues.scoring.getJob(jobId))!;
    let done = false;
    let trainSeconds = 0;
    // Probed until the training and the batch scoring it enqueues have both finished (both share this event loop).
    const finished = (async () => {
      const meta = (await job.waitUntilFinished(events, opts.timeoutMs ?? 3_600_000)) as { version: string };
      trainSeconds = (performance.now() - started) / 1000;
      let scoreAll = await deps.queues.scoring.getJob(`score-all-${meta.version}`);
      for (let k = 0; k < 100 && !scoreAll; k++) {
        await new Promise((r) => setTimeout(r, 100));
        scoreAll = await deps.queues.scoring.getJob(`score-all-${meta.version}`);
      }
      if (!scoreAll) throw new Error("the training enqueued no batch scoring");
      await scoreAll.waitUntilFinished(events, opts.timeoutMs ?? 3_600_000);
    })().finally(() => (done = true));
    events.on("progress", ({ jobId: id, data }) => {
      const phase = (data as { phase?: string } | undefined)?.phase;
      if (id === jobId && phase && phases.at(-1) !== phase) phases.push(phase);
    });
    while (!done) {
      const t = performance.now();
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        const body = (await res.json()) as { status?: string };
        if (res.status !== 200 || body.status !== "SERVING") failures.push(`${res.status} ${JSON.stringify(body)}`);
      } catch (err) {
        failures.push(String(err));
      }
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
    }
    await finished;
    const totalSeconds = (performance.now() - started) / 1000;
    loop.disable();
    const sorted = latencies.slice().sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return {
      ratings: ratings.user.length,
      probes: latencies.length,
      failures,
      latencyMs: { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 },
      loopDelayMaxMs: loop.max / 1e6,
      trainSeconds,
      totalSeconds,
      phases,
    };
  } finally {
    await server.close();
    await events.close();
    await workers.close();
    await deps.queues.scoring.obliterate({ force: true }).catch(() => undefined);
    await closeAppDeps(deps);
  }
}
