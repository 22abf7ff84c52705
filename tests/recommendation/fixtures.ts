/** Unique users, genres and movies in this run's shared database (never assumes empty tables). */
import { randomBytes } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";

const tag = () => randomBytes(5).toString("hex");
let seq = Math.floor(Math.random() * 1e6);

async function insert(orm: MikroORM, sql: string, params: unknown[]): Promise<string> {
  const rows = await orm.em.fork().execute<{ id: string }[]>(sql, params);
  return String(rows[0].id);
}

export const seedUser = (orm: MikroORM) => {
  const t = tag();
  return insert(orm, "insert into users (username, email, password) values (?, ?, 'x') returning id::text as id", [`rec_${t}`, `rec_${t}@example.test`]);
};

export const seedGenre = (orm: MikroORM, name = `Genre ${tag()}`) =>
  insert(orm, "insert into genres (tmdb_id, name, slug) values (?, ?, ?) returning id::text as id", [900_000_000 + ++seq, name, `g-${tag()}`]);

export async function seedMovie(orm: MikroORM, title = `Movie ${tag()}`, genreIds: string[] = []): Promise<string> {
  const id = await insert(orm, "insert into movies (tmdb_id, title, original_title, original_language) values (?, ?, ?, 'en') returning id::text as id", [800_000_000 + ++seq, title, title]);
  for (const g of genreIds) await orm.em.fork().execute("insert into movie_genres (movie_id, genre_id) values (?::bigint, ?::bigint)", [id, g]);
  return id;
}

export async function movieCounters(orm: MikroORM, id: string) {
  const rows = await orm.em.fork().execute<{ view_count: number; like_count: number; our_rating: string | null }[]>("select view_count, like_count, our_rating from movies where id = ?::bigint", [id]);
  return { views: rows[0].view_count, likes: rows[0].like_count, ourRating: rows[0].our_rating === null ? null : Number(rows[0].our_rating) };
}

/**
 * The items of every user's current lists (the newest per user and algorithm, what serving reads), one row each:
 * `user_id, algorithm, generated_at, movie_id, score, pos` (1-based rank). Use as `from ${CURRENT_ITEMS} r where r.user_id = …`.
 */
export const CURRENT_ITEMS = `(select l.user_id, l.algorithm, l.generated_at, i.movie_id, i.score, i.pos
  from (select distinct on (user_id, algorithm) user_id, algorithm, generated_at, movie_ids, scores from user_recommendation_lists order by user_id, algorithm, id desc) l
  cross join lateral unnest(l.movie_ids, l.scores) with ordinality as i(movie_id, score, pos))`;
