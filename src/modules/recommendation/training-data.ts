/**
 * Reads what the models train on from PostgreSQL: active movies with their content tokens, and every (user, movie)
 * pair's summed interaction weight and latest time, read in user-id ranges so memory stays flat at 10 million rows.
 */
import { pipeline } from "node:stream/promises";
import type { EntityManager } from "@mikro-orm/postgresql";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import type { TrainingData, UserHistory } from "./algorithms/recommender.ts";
import { overviewTokens } from "./algorithms/content.ts";
import { interactionWeight, SEEN_TYPES, WEIGHT_SQL } from "./interaction-weights.ts";
import { INTERACTION_TYPES, type InteractionType } from "./entities/index.ts";
import { pgArray, type SqlExecutor } from "./pg-array.ts";
import { Float8CopyReader } from "./pg-binary-copy.ts";

export interface Catalogue {
  movieIds: string[];
  index: Map<string, number>;
  tokens: (string | readonly [string, number])[][];
}

/** Active movies in id order with genre (×2), keyword, top-5 cast, director (×2), language and overview tokens. */
export async function loadCatalogue(em: EntityManager): Promise<Catalogue> {
  // Ordered by the numeric id (`order by id` would sort the text alias: "101" before "11"), so item order — and with it
  // every tie-break by item (temporal split, recency, top-k) — is movie id order, as in the offline evaluation.
  const movies = await em.execute<{ id: string; lang: string; overview: string }[]>("select id::text as id, original_language as lang, overview from movies where is_active order by movies.id");
  const movieIds = movies.map((m) => m.id);
  const index = new Map(movieIds.map((id, i) => [id, i]));
  const tokens = movies.map((m): (string | readonly [string, number])[] => [`l:${m.lang}`, ...overviewTokens(m.overview)]);
  const add = (rows: { movie_id: string; t: string }[], weight: number) => {
    for (const r of rows) {
      const i = index.get(r.movie_id);
      if (i !== undefined) tokens[i].push([r.t, weight]);
    }
  };
  add(await em.execute("select mg.movie_id::text as movie_id, 'g:' || g.name as t from movie_genres mg join genres g on g.id = mg.genre_id"), 2);
  add(await em.execute("select mk.movie_id::text as movie_id, 'k:' || k.name as t from movie_keywords mk join keywords k on k.id = mk.keyword_id"), 1);
  add(await em.execute(`select movie_id::text as movie_id, 'c:' || person_id as t from movie_cast where "order" < 5`), 1);
  add(await em.execute("select movie_id::text as movie_id, 'd:' || person_id as t from movie_crew where job = 'Director'"), 2);
  return { movieIds, index, tokens };
}

/**
 * Every user's aggregated interactions with active movies, in typed arrays (no per-interaction objects are kept).
 * One binary COPY streams the (user, movie) aggregates in (user, movie) order (a GroupAggregate over the
 * (user_id, movie_id, interaction_type) index, no sort): PostgreSQL aggregates on one core while this process
 * reads the numbers on the other, with no row objects in between.
 */
export async function loadTrainingData(em: EntityManager, catalogue: Catalogue, now: Date): Promise<TrainingData & { userIds: string[]; interactionCount: number }> {
  const userIds: string[] = [];
  const user = new Growable(Int32Array);
  const item = new Growable(Int32Array);
  const weight = new Growable(Float32Array);
  const time = new Growable(Float64Array);
  // Ids come as float8 (exact below 2^53) so the hot loop neither allocates strings nor parses them.
  const index = new Map<number, number>();
  for (const [id, i] of catalogue.index) index.set(Number(id), i);
  let interactionCount = 0;
  let lastUser = -1;
  let u = -1;
  // Users numbered in id order, entries in (user, movie) order: the same data always gives the same matrices, summed
  // in the same order (float rounding included), so a training's tuning makes the same choices as the evaluation's.
  const reader = new Float8CopyReader(5, (r) => {
    const i = index.get(r[1]);
    if (i === undefined) return;
    if (r[0] !== lastUser) {
      lastUser = r[0];
      u = userIds.length;
      userIds.push(String(r[0]));
    }
    user.push(u);
    item.push(i);
    weight.push(r[2]);
    time.push(r[3]);
    interactionCount += r[4];
  });
  const pool: pg.Pool = await em.getConnection().getNativeClient();
  const client = await pool.connect();
  try {
    await pipeline(
      client.query(
        copyTo(`copy (select user_id::float8 as u, movie_id::float8 as m, sum(${WEIGHT_SQL})::float8 as w, extract(epoch from max("timestamp"))::float8 as t, count(*)::float8 as n
          from user_movie_interactions group by user_id, movie_id order by user_id, movie_id) to stdout with (format binary)`),
      ),
      reader.writable(),
    );
  } finally {
    client.release();
  }
  return {
    users: userIds.length,
    items: catalogue.movieIds.length,
    user: user.done(),
    item: item.done(),
    weight: weight.done(),
    time: time.done(),
    tokens: catalogue.tokens,
    now: now.getTime() / 1000,
    userIds,
    interactionCount,
  };
}

type TypedCtor<T> = { new (n: number): T };

/** An append-only typed array that doubles its capacity (10 million numbers stay 40-80 MB, not JS arrays). */
class Growable<T extends Int32Array | Float32Array | Float64Array> {
  readonly #ctor: TypedCtor<T>;
  #buf: T;
  #n = 0;
  constructor(ctor: TypedCtor<T>) {
    this.#ctor = ctor;
    this.#buf = new ctor(1024);
  }
  push(v: number): void {
    if (this.#n === this.#buf.length) {
      const next = new this.#ctor(this.#buf.length * 2);
      next.set(this.#buf);
      this.#buf = next;
    }
    this.#buf[this.#n++] = v;
  }
  done(): T {
    return this.#buf.slice(0, this.#n) as T;
  }
}

/** What scoring needs of one user: their history for fold-in, and the movies never to recommend again. */
export interface UserState {
  history: UserHistory;
  /** Movie ids never to recommend again (seen, disliked, rated, not interested...). */
  seen: Set<string>;
}

/** One user's history for fold-in (signed weights per movie), plus favourite genres and positive feedback. */
export async function loadUserHistory(em: SqlExecutor, userId: string, index: ReadonlyMap<string, number>): Promise<UserState> {
  return (await loadUserHistories(em, [userId], index)).get(userId)!;
}

/** A transaction that can also stream a query's float8 columns by binary COPY (a `pg` client: list-writer.ts). */
export interface Float8Copier {
  copyFloat8(sql: string, columns: number, onRow: (row: Float64Array) => void): Promise<void>;
}

const canCopy = (em: SqlExecutor): em is SqlExecutor & Float8Copier => typeof (em as Partial<Float8Copier>).copyFloat8 === "function";

/** Interaction types as numbers for binary COPY: the position in INTERACTION_TYPES (NULL for any other text). */
const TYPE_CODE_SQL = `case interaction_type ${INTERACTION_TYPES.map((t, k) => `when '${t}' then ${k}`).join(" ")} end`;

/** Per id → item index map: the same keyed by the ids' numeric values. */
const numericIndexes = new WeakMap<ReadonlyMap<string, number>, Map<number, number>>();
function numericIndexOf(index: ReadonlyMap<string, number>): Map<number, number> {
  let m = numericIndexes.get(index);
  if (!m) {
    m = new Map();
    for (const [id, i] of index) m.set(Number(id), i);
    numericIndexes.set(index, m);
  }
  return m;
}

/**
 * The same for many users in three queries (batch scoring), every requested user present in the result. On a
 * transaction that can (batch scoring's), the interactions — about 80 rows per user — come by binary COPY as
 * numbers: the text rows were five parsed strings in one object each, the largest cost of the batch's own thread
 * after the lists. Same query, so the same rows in the same order, folded by the same code.
 */
export async function loadUserHistories(em: SqlExecutor, userIds: readonly string[], index: ReadonlyMap<string, number>): Promise<Map<string, UserState>> {
  type Acc = { byItem: Map<number, { w: number; t: number }>; seen: Set<string>; genres: Map<string, number> };
  const acc = new Map<string, Acc>(userIds.map((u) => [u, { byItem: new Map<number, { w: number; t: number }>(), seen: new Set<string>(), genres: new Map<string, number>() }]));
  const fold = (a: Acc, m: string | number, i: number | undefined, type: InteractionType, rating: number | null, t: number) => {
    if (SEEN_TYPES.includes(type)) a.seen.add(String(m));
    if (i === undefined) return;
    const cur = a.byItem.get(i) ?? { w: 0, t: 0 };
    cur.w += interactionWeight(type, rating);
    cur.t = Math.max(cur.t, t);
    a.byItem.set(i, cur);
  };
  const where = "from user_movie_interactions where user_id = any(?::bigint[])";
  if (canCopy(em)) {
    const byNumber = new Map<number, Acc>();
    for (const [u, a] of acc) byNumber.set(Number(u), a);
    const numeric = numericIndexOf(index);
    // COPY takes no parameters: the ids go in as a literal, which pgArray has checked holds only [A-Za-z0-9_.-].
    await em.copyFloat8(
      `copy (select user_id::float8, movie_id::float8, (${TYPE_CODE_SQL})::float8, rating::float8, extract(epoch from "timestamp")::float8
       ${where.replace("?", `'${pgArray(userIds)}'`)}) to stdout with (format binary)`,
      5,
      (r) => fold(byNumber.get(r[0])!, r[1], numeric.get(r[1]), INTERACTION_TYPES[r[2]], Number.isNaN(r[3]) ? null : r[3], r[4]),
    );
  } else {
    const rows = await em.execute<{ u: string; m: string; type: InteractionType; rating: number | null; t: number }[]>(
      `select user_id::text as u, movie_id::text as m, interaction_type as type, rating, extract(epoch from "timestamp")::float8 as t ${where}`,
      [pgArray(userIds)],
    );
    for (const r of rows) fold(acc.get(r.u)!, r.m, index.get(r.m), r.type, r.rating, r.t);
  }
  const feedback = await em.execute<{ u: string; m: string; type: string }[]>(
    `select f.user_id::text as u, ur.movie_id::text as m, f.feedback_type as type
     from recommendation_feedback f join user_recommendations ur on ur.id = f.recommendation_id where f.user_id = any(?::bigint[])`,
    [pgArray(userIds)],
  );
  for (const f of feedback) {
    const a = acc.get(f.u)!;
    if (f.type !== "positive") a.seen.add(f.m);
    const i = index.get(f.m);
    if (i === undefined || f.type === "already_seen") continue;
    const cur = a.byItem.get(i) ?? { w: 0, t: 0 };
    cur.w += f.type === "positive" ? 1 : -1;
    a.byItem.set(i, cur);
  }
  const genres = await em.execute<{ u: string; name: string }[]>(
    `select p.user_id::text as u, g.name from user_favorite_genres fg join user_profiles p on p.id = fg.userprofile_id join genres g on g.id = fg.genre_id
     where p.user_id = any(?::bigint[])`,
    [pgArray(userIds)],
  );
  for (const g of genres) acc.get(g.u)!.genres.set(`g:${g.name}`, 1);
  const out = new Map<string, UserState>();
  for (const [u, a] of acc) {
    const items = [...a.byItem.keys()];
    out.set(u, {
      history: {
        items: Int32Array.from(items),
        values: Float32Array.from(items, (i) => a.byItem.get(i)!.w),
        times: Float64Array.from(items, (i) => a.byItem.get(i)!.t),
        extraTokens: a.genres,
      },
      seen: a.seen,
    });
  }
  return out;
}
