/**
 * The served evaluation (`npm run eval -- --ratings FILE --served`): the offline protocol's split, run through what
 * users get. The training part of the split goes into a scratch database as `rating` interactions (movies become
 * placeholder catalogue rows, with MovieLens titles and genres when a movies.csv is beside the ratings), the real
 * `train` job fits and publishes the model on a real BullMQ worker and enqueues the real `score-all` batch, and each
 * test user's list is read through GetRecommendations on a real server, signed in as that user. The metrics are the
 * offline ones, over the same test sets and candidates.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { QueueEvents } from "bullmq";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { Algorithm } from "../../gen/movierec/recommendation/v1/recommendation_pb.js";
import type { Config } from "../platform/config.ts";
import type { Logger } from "../platform/logger.ts";
import { bullConnection, queuePrefix } from "../platform/queues.ts";
import { createAccessTokens } from "../modules/user/access-tokens.ts";
import { SessionStore } from "../modules/user/session-store.ts";
import { createRecommendationModule } from "../modules/recommendation/index.ts";
import { closeAppDeps, dependencyProbes, openAppDeps, type AppDeps } from "../server/app-deps.ts";
import { buildAuthenticator, buildImpls } from "../server/impls.ts";
import { startServer } from "../server/server.ts";
import { startWorkers } from "../worker/workers.ts";
import { MetricsAccumulator, type RankingMetrics } from "./metrics.ts";
import type { Ratings } from "./ratings-file.ts";
import type { EvalSet } from "./evaluate.ts";
import type { Split } from "./split.ts";

export interface ServedResult {
  hybrid: RankingMetrics;
  /** What the served model was trained and tuned with (from GetModelStatus's metadata). */
  modelMeta: unknown;
  seconds: { load: number; train: number; score: number; serve: number };
}

/** MovieLens movies.csv beside the ratings file: title and genres by movie id (empty when there is none). */
export function readMovieInfo(ratingsPath: string): Map<string, { title: string; genres: string[] }> {
  const out = new Map<string, { title: string; genres: string[] }>();
  const path = join(dirname(ratingsPath), "movies.csv");
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, "utf8").split(/\r?\n/).slice(1)) {
    const m = /^(\d+),(.*),([^,]*)$/.exec(line);
    if (m) out.set(m[1], { title: m[2].replace(/^"(.*)"$/, "$1").replace(/""/g, '"'), genres: m[3] === "(no genres listed)" ? [] : m[3].split("|") });
  }
  return out;
}

/** Runs the served pipeline on a migrated, empty database named by `config` (the caller creates and drops it). */
export async function servedEvaluation(
  config: Config,
  log: Logger,
  input: { ratings: Ratings; split: Split; set: EvalSet; movies: Map<string, { title: string; genres: string[] }>; topN?: number; concurrency?: number },
): Promise<ServedResult> {
  const deps = await openAppDeps(config, log);
  const workers = startWorkers({ redisUrl: config.redisUrl, prefix: config.redisPrefix, log, processors: { scoring: createRecommendationModule(deps).processors } });
  const events = new QueueEvents("scoring", { connection: bullConnection(config.redisUrl, true), prefix: queuePrefix(config.redisUrl, config.redisPrefix, "scoring") });
  try {
    let t = performance.now();
    const { userIds, movieIds } = await loadSplit(deps, input.ratings, input.split, input.movies);
    const load = (performance.now() - t) / 1000;

    // The real jobs: StartTraining's job on the worker, then the score-all it enqueues.
    t = performance.now();
    await events.waitUntilReady();
    const mod = createRecommendationModule(deps, { topN: input.topN ?? 100 });
    const { jobId } = await mod.service.startTraining(`served-eval-${Date.now()}`, false);
    const trainJob = (await deps.queues.scoring.getJob(jobId))!;
    const meta = (await trainJob.waitUntilFinished(events, 3_600_000)) as { version: string };
    const train = (performance.now() - t) / 1000;
    t = performance.now();
    const scoreJob = await waitForJob(deps, `score-all-${meta.version}`);
    await scoreJob.waitUntilFinished(events, 3_600_000);
    const score = (performance.now() - t) / 1000;

    // Every test user's hybrid list through GetRecommendations, signed in as them.
    t = performance.now();
    const server = await startServer({ config, log, probes: dependencyProbes(deps), impls: buildImpls(deps), authenticate: buildAuthenticator(deps) });
    const acc = new MetricsAccumulator(10, input.set.catalogue);
    try {
      const client = createClient(RecommendationService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.port}` }));
      const tokens = createAccessTokens({ secret: config.auth.jwtSecret, keyId: config.auth.jwtKeyId, ttlSeconds: 3600 });
      const sessions = new SessionStore({ refreshTtlSeconds: 3600 });
      const itemOf = new Map(movieIds.map((id, item) => [id, item]));
      const users = [...input.set.test.keys()];
      const lists = new Map<number, number[]>();
      let next = 0;
      const worker = async () => {
        while (next < users.length) {
          const u = users[next++];
          const em = deps.orm.em.fork();
          const session = await sessions.open(em, userIds[u], "served-eval");
          const { token } = await tokens.sign({ userId: userIds[u], sessionId: session.sessionId, isStaff: false });
          const got = await client.getRecommendations({ algorithm: Algorithm.HYBRID, limit: 10 }, { headers: { authorization: `Bearer ${token}` } });
          lists.set(u, got.recommendations.map((r) => itemOf.get(r.movie?.id ?? "") ?? -1));
        }
      };
      await Promise.all(Array.from({ length: input.concurrency ?? 8 }, worker));
      // Accumulated in user order, so the figures do not depend on which call finished first.
      for (const u of users) acc.add(lists.get(u) ?? [], input.set.test.get(u)!);
    } finally {
      await server.close();
    }
    const serve = (performance.now() - t) / 1000;
    return { hybrid: acc.result(), modelMeta: (await mod.store.meta()) ?? null, seconds: { load, train, score, serve } };
  } finally {
    await events.close();
    await workers.close();
    await deps.queues.scoring.obliterate({ force: true }).catch(() => undefined);
    await closeAppDeps(deps);
  }
}

async function waitForJob(deps: AppDeps, jobId: string) {
  for (let k = 0; k < 600; k++) {
    const job = await deps.queues.scoring.getJob(jobId);
    if (job) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${jobId} never appeared`);
}

/**
 * Users (all of the file's), placeholder movies (those in the training part: the offline candidates) with their
 * genres, and the training part as `rating` interactions (stars rounded to the schema's 1–5). Returns database ids
 * by dense user index and by dense item index ("" for items outside training). Tests load fixtures with it too.
 */
export async function loadSplit(deps: Pick<AppDeps, "orm">, ratings: Ratings, split: Split, movies: Map<string, { title: string; genres: string[] }>) {
  const em = deps.orm.em.fork();
  const inTraining = new Uint8Array(ratings.itemIds.length);
  for (const i of split.train.item) inTraining[i] = 1;
  const trainItems = ratings.itemIds.flatMap((id, i) => (inTraining[i] ? [{ id, i }] : []));
  const genreNames = [...new Set(trainItems.flatMap(({ id }) => movies.get(id)?.genres ?? []))].sort();
  if (genreNames.length > 0) {
    await em.execute(`insert into genres (tmdb_id, name, slug) select k, g, 'ml-' || k from unnest(?::text[]) with ordinality as t(g, k)`, [pgText(genreNames)]);
  }
  const titles = trainItems.map(({ id }) => movies.get(id)?.title.slice(0, 250) || `MovieLens ${id}`);
  const rows = await em.execute<{ id: string; k: number }[]>(
    `insert into movies (tmdb_id, title, original_title, original_language)
     select k, t, t, 'en' from unnest(?::text[]) with ordinality as x(t, k) returning id::text as id, tmdb_id as k`,
    [pgText(titles)],
  );
  const movieIds: string[] = new Array<string>(ratings.itemIds.length).fill("");
  for (const r of rows) movieIds[trainItems[r.k - 1].i] = r.id;
  const mg: [string, string][] = trainItems.flatMap(({ id, i }) => (movies.get(id)?.genres ?? []).map((g): [string, string] => [movieIds[i], g]));
  if (mg.length > 0) {
    await em.execute(`insert into movie_genres (movie_id, genre_id) select m, g.id from unnest(?::bigint[], ?::text[]) as x(m, n) join genres g on g.name = x.n`, [
      pgText(mg.map((p) => p[0])),
      pgText(mg.map((p) => p[1])),
    ]);
  }
  await em.execute(
    `with added as (insert into users (username, email, password) select 'ml_' || u, 'ml_' || u || '@eval.test', '!' from unnest(?::text[]) as x(u) returning id)
     insert into user_profiles (user_id) select id from added`,
    [pgText(ratings.userIds)],
  );
  const userIndex = new Map(ratings.userIds.map((id, k) => [id, k]));
  const userIds: string[] = new Array<string>(ratings.userIds.length);
  for (const r of await em.execute<{ id: string; u: string }[]>(`select id::text as id, substr(username, 4) as u from users where username like 'ml\\_%'`)) {
    const k = userIndex.get(r.u);
    if (k !== undefined) userIds[k] = r.id;
  }
  // The training part, in chunks (one statement per 20,000 interactions).
  const stars = new Map<string, number>();
  for (let k = 0; k < ratings.user.length; k++) stars.set(`${ratings.user[k]}:${ratings.item[k]}`, ratings.rating[k]);
  const t = split.train;
  for (let a = 0; a < t.user.length; a += 20_000) {
    const b = Math.min(t.user.length, a + 20_000);
    const u: string[] = [];
    const m: string[] = [];
    const r: number[] = [];
    const ts: number[] = [];
    for (let k = a; k < b; k++) {
      u.push(userIds[t.user[k]]);
      m.push(movieIds[t.item[k]]);
      r.push(Math.min(5, Math.max(1, Math.round(stars.get(`${t.user[k]}:${t.item[k]}`) ?? 3))));
      ts.push(t.time[k]);
    }
    await em.execute(
      `insert into user_movie_interactions (user_id, movie_id, interaction_type, rating, "timestamp")
       select u, m, 'rating', r, to_timestamp(ts) from unnest(?::bigint[], ?::bigint[], ?::int[], ?::float8[]) as x(u, m, r, ts)`,
      [pgText(u), pgText(m), `{${r.join(",")}}`, `{${ts.join(",")}}`],
    );
  }
  // Statistics for what was loaded only: analysing the still-empty recommendation tables would record them as empty, and
  // the batch scoring's set-based writes (list-writer.ts) would then be planned as if it stayed so while it fills
  // (an anti-join by sequential scan per staged row: a score-all of ml-latest-small ran for over 13 minutes).
  await em.execute("analyze users, movies, genres, movie_genres, user_movie_interactions");
  return { userIds, movieIds };
}

/** A PostgreSQL array literal of strings (quoted, so titles with commas and quotes survive). */
function pgText(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",")}}`;
}
