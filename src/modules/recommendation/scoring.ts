/**
 * The scoring pipeline behind the workers: train (fit and publish a model), score users (fold-in of their current
 * interactions into the stored model, no retraining) and write their top N per algorithm. Users are scored in
 * batches: one transaction per batch takes every user's advisory lock (in id order, so batches and single rescores
 * never deadlock), reads their histories in three queries, and replaces their lists — one row per (user, algorithm)
 * — with one delete and one COPY (list-writer.ts).
 * Two workers therefore never score one user at once, and a crash midway leaves the previous lists in place.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { DEFAULT_TRAIN, type TrainOptions } from "./algorithms/recommender.ts";
import { loadCatalogue, loadTrainingData, loadUserHistories, type UserState } from "./training-data.ts";
import { createUserListsScratch, ListPacker, unpackLists, type BatchLists } from "./user-lists.ts";
import { scoringThreadsFor } from "./score-threads.ts";
import type { ModelStore } from "./model-store.ts";
import { itemIndexOf, type ModelMeta, type StoredModel } from "./model-artefact.ts";
import { invalidateUsers } from "./serving-cache.ts";
import { pgArray, type SqlExecutor } from "./pg-array.ts";
import { clientExecutor, inPgTransaction, replaceLists } from "./list-writer.ts";
import { clearRescoreRequests } from "./rescore-requests.ts";
import { storeReasons } from "./reasons.ts";
import { encodeBatchReasons } from "./reasons-encoder.ts";
import { fitInThread } from "./training/fit-in-thread.ts";
import type { FitProgress } from "./training/fit-model.ts";
import { DEFAULT_TUNE_BUDGET } from "../../eval/tune.ts";

export interface ScoringOptions {
  topN: number;
  maxItems: number;
  /** When given, batch scoring adds its time per phase here, in ms summed over batches (the bench prints it). */
  stats?: ScoringStats;
  /** Threads computing batches' lists (REC_SCORE_THREADS); 1 or absent: this thread. */
  threads?: number;
}

/** Where batch scoring spends its time (ms, summed over batches, so concurrent batches can add up past the wall time). */
export interface ScoringStats {
  read: number;
  compute: number;
  write: number;
}

/** Users scored per transaction by the batch job. */
export const SCORE_BATCH = 200;

/**
 * Fits every model on the current data in a worker thread (the event loop stays free for lock renewal, other jobs and
 * health checks) and publishes it; returns its metadata.
 */
export async function trainAndPublish(
  orm: MikroORM,
  store: ModelStore,
  opts: ScoringOptions & { train?: Partial<TrainOptions>; evaluate?: boolean; tuneSeconds?: number; onProgress?: (p: FitProgress) => void },
  now = new Date(),
) {
  const em = orm.em.fork();
  const started = performance.now();
  const catalogue = await loadCatalogue(em);
  const data = await loadTrainingData(em, catalogue, now);
  const loadSeconds = (performance.now() - started) / 1000;
  // Tuned at every training (eval/tune.ts) unless tuneSeconds is 0: the model serves the parameters its own data chose.
  const tune = { ...DEFAULT_TUNE_BUDGET, seconds: opts.tuneSeconds ?? DEFAULT_TUNE_BUDGET.seconds };
  const fit = await fitInThread({ data, train: { ...DEFAULT_TRAIN, maxItems: opts.maxItems, ...opts.train }, evaluate: opts.evaluate ?? false, tune }, opts.onProgress);
  const meta: ModelMeta = {
    version: `v${now.getTime()}`,
    trainedAt: now.toISOString(),
    userCount: data.users,
    movieCount: data.items,
    interactionCount: data.interactionCount,
    trainSeconds: loadSeconds + fit.fitSeconds,
    evaluation: fit.evaluation,
    ...(fit.evaluatedAt ? { evaluatedAt: fit.evaluatedAt } : {}),
    params: fit.model.params,
    ...(fit.tuning ? { lambda: fit.tuning.lambda, tuning: fit.tuning } : {}),
  };
  await store.publish({ meta, movieIds: catalogue.movieIds, model: fit.model });
  return { meta, userIds: data.userIds, loadSeconds, data };
}

/** Scores one user with every algorithm and replaces their lists (the incremental job). */
export async function rescoreUser(orm: MikroORM, redis: Redis, stored: StoredModel, userId: string, opts: ScoringOptions, now = new Date()): Promise<number> {
  return scoreUsers(orm, redis, stored, [userId], opts, now);
}

/** Scores a batch of users in one transaction; returns the number of list items written. */
export async function scoreUsers(orm: MikroORM, redis: Redis, stored: StoredModel, userIds: readonly string[], opts: ScoringOptions, now = new Date()): Promise<number> {
  if (userIds.length === 0) return 0;
  const index = indexOf(stored);
  const ids = [...new Set(userIds)].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  const pool = await orm.em.getConnection().getNativeClient();
  const written = await inPgTransaction(pool, async (client) => {
    const tx = clientExecutor(client);
    // Locks in id order (the inner ORDER BY fixes the order the outer select calls the function in).
    await tx.execute(
      "select count(*) from (select pg_advisory_xact_lock(hashtext('movierec.rescore'), (u % 2147483647)::int) from (select u from unnest(?::bigint[]) u order by u) o) l",
      [pgArray(ids)],
    );
    // Before the histories are read: a write committing after this leaves a new request for the sweep.
    await clearRescoreRequests(tx, ids);
    let mark = performance.now();
    const lap = (phase: keyof ScoringStats) => {
      if (opts.stats) opts.stats[phase] += performance.now() - mark;
      mark = performance.now();
    };
    const states = await loadUserHistories(tx, ids, index);
    lap("read");
    const computed = opts.threads !== undefined && opts.threads > 1 && ids.length > 1
      ? await scoringThreadsFor(stored, opts.threads).compute(ids, states, opts.topN)
      : await computeHere(stored, ids, states, opts.topN);
    lap("compute");
    await replaceLists(client, ids, computed.lists, now);
    const named = new Set<number>();
    for (const r of computed.reasons) for (const b of r.because) if (b >= 0) named.add(b);
    const titles = await titlesOf(tx, stored, named);
    const encoded = encodeBatchReasons(stored.movieIds, computed.reasons, titles);
    // Reasons go to Redis before COMMIT: a list is never served without its reasons (a reason for a movie that a
    // rolled-back batch did not store is simply never looked up).
    await storeReasons(redis, computed.reasons.map((r, l) => ({ userId: r.userId, algorithm: r.algorithm, encoded: encoded[l] })));
    lap("write");
    return computed.items;
  });
  await invalidateUsers(redis, ids);
  return written;
}

/** Who is worth scoring: anyone active with interactions or favourite genres (SQL over `users u`). */
const SCORABLE = `u.is_active and (
       exists (select 1 from user_movie_interactions i where i.user_id = u.id)
       or exists (select 1 from user_profiles p join user_favorite_genres g on g.userprofile_id = p.id where p.user_id = u.id))`;

/** Users worth scoring, in id order after `after` (and up to `upTo`, inclusive, when given). */
export async function scorableUsers(orm: MikroORM, after: string, limit: number, upTo?: string): Promise<string[]> {
  const rows = await orm.em.fork().execute<{ id: string }[]>(
    `select id::text as id from users u where u.id > ?::bigint and u.id <= ?::bigint and ${SCORABLE}
     order by u.id limit ?`,
    [after, upTo ?? "9223372036854775807", limit],
  );
  return rows.map((r) => r.id);
}

/** The id of every `every`-th scorable user, in order: the upper bounds of ranges of `every` users each. */
export async function scorableBounds(orm: MikroORM, every: number): Promise<string[]> {
  const rows = await orm.em.fork().execute<{ id: string }[]>(
    `select id::text as id from (select u.id, row_number() over (order by u.id) as n from users u where ${SCORABLE}) s
     where n % ? = 0 order by n`,
    [every],
  );
  return rows.map((r) => r.id);
}

/** Scores every scorable user after `after`, batch by batch; `onBatch` sees the last id done (for resuming after it). */
export async function scoreAllUsers(
  orm: MikroORM,
  redis: Redis,
  stored: StoredModel,
  opts: ScoringOptions,
  progress: { after?: string; onBatch?: (after: string, users: number) => Promise<void>; parallel?: number; signal?: AbortSignal } = {},
) {
  const { users, rows } = await scoreUserRange(orm, redis, stored, opts, progress);
  // The table was just rewritten: fresh statistics now, or the planner keeps the empty table's (with rows per item,
  // a user's list was served through a bitmap scan of every row of the run: 435 ms instead of 2 ms at 100,000 users).
  if (users > 0) await analyzeRecommendations(orm);
  return { users, rows };
}

/** Fresh planner statistics for `user_recommendation_lists`, after a full run rewrote it. */
export async function analyzeRecommendations(orm: MikroORM): Promise<void> {
  await orm.em.fork().execute("analyze user_recommendation_lists");
}

/**
 * Scores the scorable users with ids in (`after`, `upTo`] (no upper bound when `upTo` is absent), batch by batch:
 * one shard of a sharded run (score-all-shards.ts), or the whole run. `parallel` batches stay in flight — a new one
 * starts as soon as any finishes, so the scoring threads never wait for the slowest batch of a group. `onBatch` sees
 * the last id up to which every batch is done (where a retried range resumes); an aborted `signal` stops the run
 * after the batches in flight (a bench scoring part of the users). A failed batch fails the run once the others in
 * flight have settled.
 */
export async function scoreUserRange(
  orm: MikroORM,
  redis: Redis,
  stored: StoredModel,
  opts: ScoringOptions,
  progress: { after?: string; upTo?: string; onBatch?: (after: string, users: number) => Promise<void>; parallel?: number; signal?: AbortSignal } = {},
) {
  let users = 0;
  let rows = 0;
  const now = new Date();
  // Batches in flight by default: one computes while another's reads and writes run in PostgreSQL — on this thread,
  // or one per scoring thread plus one on this thread's I/O.
  const parallel = progress.parallel ?? ((opts.threads ?? 1) > 1 ? opts.threads! + 1 : 2);
  let cursor = progress.after ?? "0";
  let queued: string[] = [];
  let exhausted = false;
  const nextBatch = async (): Promise<string[]> => {
    if (queued.length === 0 && !exhausted) {
      queued = await scorableUsers(orm, cursor, SCORE_BATCH * parallel, progress.upTo);
      if (queued.length === 0) exhausted = true;
      else cursor = queued[queued.length - 1];
    }
    return queued.splice(0, SCORE_BATCH);
  };
  type InFlight = { last: string; size: number; done: Promise<number>; result?: { ok: true; rows: number } | { ok: false; error: unknown } };
  const inFlight: InFlight[] = [];
  for (;;) {
    while (inFlight.length < parallel && !progress.signal?.aborted) {
      const ids = await nextBatch();
      if (ids.length === 0) break;
      const batch: InFlight = { last: ids[ids.length - 1], size: ids.length, done: scoreUsers(orm, redis, stored, ids, opts, now) };
      batch.done = batch.done.then(
        (n) => ((batch.result = { ok: true, rows: n }), n),
        (error: unknown) => ((batch.result = { ok: false, error }), 0),
      );
      inFlight.push(batch);
    }
    if (inFlight.length === 0) break;
    const running = inFlight.filter((b) => !b.result);
    if (running.length > 0) await Promise.race(running.map((b) => b.done));
    const failed = inFlight.find((b) => b.result?.ok === false);
    if (failed) {
      await Promise.all(inFlight.map((b) => b.done));
      throw (failed.result as { error: unknown }).error;
    }
    // Progress moves past a batch only once every batch before it is done too.
    let head: InFlight | undefined;
    while (inFlight.length > 0 && inFlight[0].result?.ok) {
      head = inFlight.shift()!;
      rows += (head.result as { rows: number }).rows;
      users += head.size;
    }
    if (head) await progress.onBatch?.(head.last, users);
  }
  return { users, rows };
}

const indexOf = itemIndexOf;

/**
 * The batch's lists on this thread, yielding to the event loop every ~20 ms of scoring, so BullMQ lock renewals and
 * health checks of this process are never starved by a batch (a lost lock makes the job "stall" and run again).
 */
async function computeHere(stored: StoredModel, ids: readonly string[], states: ReadonlyMap<string, UserState>, topN: number): Promise<BatchLists> {
  const packer = new ListPacker();
  const scratch = createUserListsScratch(stored);
  let slice = performance.now();
  for (const userId of ids) {
    if (performance.now() - slice > 20) {
      await new Promise((r) => setImmediate(r));
      slice = performance.now();
    }
    packer.add(stored, userId, states.get(userId)!, topN, scratch);
  }
  return unpackLists(stored, packer.done());
}

async function titlesOf(em: SqlExecutor, stored: StoredModel, items: ReadonlySet<number>): Promise<Map<number, string>> {
  const ids = Array.from(items, (i) => stored.movieIds[i]);
  const rows = ids.length === 0 ? [] : await em.execute<{ id: string; title: string }[]>("select id::text as id, title from movies where id = any(?::bigint[])", [pgArray(ids)]);
  const index = indexOf(stored);
  return new Map(rows.map((r) => [index.get(r.id)!, r.title]));
}
