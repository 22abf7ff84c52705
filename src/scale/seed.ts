/**
 * The run's data, written to the primary before the app starts: the demo catalogue (genres, movies, people), the
 * demo staff account, `movies` more movies, a genre of the run's own, and `users` synthetic viewers with 20 ratings each in ten taste
 * groups (enough for a full scoring run to take measurable time); the first `recipients` of them list that genre as
 * a favourite, so a SendNotification filtered on it reaches exactly them.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import { loadDemoCatalog } from "../demo/demo-catalog.ts";
import { DEMO_STAFF, ensureDemoStaff } from "../demo/demo-staff.ts";

export interface SeededData {
  staff: { username: string; password: string };
  /** The run's genre: the broadcast's filter. */
  genreId: string;
  /** Email addresses of the users the broadcast must reach. */
  recipientEmails: string[];
  viewers: number;
  movies: number;
}

export async function seedScaleData(orm: MikroORM, opts: { users: number; recipients: number; movies: number }): Promise<SeededData> {
  const counts = await loadDemoCatalog(orm);
  await ensureDemoStaff(orm);
  const sql = <T extends object>(q: string, params: unknown[] = []) => orm.em.fork().execute<T[]>(q, params);
  // The demo catalogue is small (60 movies): more movies make scoring work like a real catalogue's.
  await sql("insert into movies (tmdb_id, title, original_title, original_language, popularity_score) select 980000000 + i, 'Scale movie ' || i, 'Scale movie ' || i, 'en', i % 97 from generate_series(1, ?) i", [opts.movies]);
  const [genre] = await sql<{ id: string }>("insert into genres (tmdb_id, name, slug) values (990000001, 'Scale broadcast', 'scale-broadcast') returning id::text as id");
  await sql("insert into users (username, email, password) select 'viewer' || i, 'viewer' || i || '@scale.test', 'x' from generate_series(1, ?) i", [opts.users]);
  // Ten taste groups (user id mod 10), each around its own stretch of the catalogue, plus some spread.
  await sql(
    `insert into user_movie_interactions (user_id, movie_id, interaction_type, rating, "timestamp")
     select distinct on (u.id, m.id) u.id, m.id, 'rating', 1 + (u.id + k) % 5, now() - (k * interval '1 hour')
       from users u cross join generate_series(1, 20) k
       join (select id, row_number() over (order by id) - 1 as rn, count(*) over () as n from movies) m
         on m.rn = ((u.id % 10) * (m.n / 10) + (u.id * 7 + k * k * 13) % (m.n / 5)) % m.n
      where u.username like 'viewer%'`,
  );
  const recipients = await sql<{ id: string; email: string }>("select id::text as id, email from users where username like 'viewer%' order by id limit ?", [opts.recipients]);
  const ids = `{${recipients.map((r) => r.id).join(",")}}`;
  await sql("insert into user_profiles (user_id) select unnest(?::bigint[])", [ids]);
  await sql("insert into user_favorite_genres (userprofile_id, genre_id) select id, ? from user_profiles where user_id = any(?::bigint[])", [genre!.id, ids]);
  await sql("analyze");
  return { staff: { username: DEMO_STAFF.username, password: DEMO_STAFF.password }, genreId: genre!.id, recipientEmails: recipients.map((r) => r.email.toLowerCase()), viewers: opts.users, movies: counts.movies + opts.movies };
}
