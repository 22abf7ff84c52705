/**
 * Loads the synthetic demo population (demo-population-data.ts) idempotently: users are created once (by
 * username, with a password nobody knows: they never sign in), and their interactions are upserted with times
 * relative to this load, so a demo started any day has fresh activity for trending and training.
 */
import { randomBytes } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { createPasswordHasher } from "../modules/user/index.ts";
import { generateDemoCatalog, type DemoCatalog } from "./demo-catalog-data.ts";
import { generateDemoPopulation, type DemoPopulation } from "./demo-population-data.ts";

/** A PostgreSQL array literal for one bind parameter, every element quoted (emails, timestamps) or NULL. */
function pgArray(values: readonly (string | number | null)[]): string {
  return `{${values.map((v) => (v === null ? "NULL" : `"${String(v).replace(/["\\]/g, (c) => `\\${c}`)}"`)).join(",")}}`;
}

export interface DemoPopulationCounts {
  users: number;
  interactions: number;
  groups: number;
}

/** Upserts the population; the catalogue must be loaded first (interactions refer to its movies). */
export async function loadDemoPopulation(orm: MikroORM, now = new Date(), catalog: DemoCatalog = generateDemoCatalog(), population: DemoPopulation = generateDemoPopulation(catalog)): Promise<DemoPopulationCounts> {
  let interactions = 0;
  await orm.em.fork().transactional(async (em) => {
    const usernames = population.users.map((u) => u.username);
    const existing = await em.execute<{ username: string }[]>("select username from users where username = any(?::text[])", [pgArray(usernames)]);
    if (existing.length < usernames.length) {
      // One hash of a random secret for all of them: valid argon2id (so a sign-in attempt is an ordinary failure), usable by nobody.
      const hash = await createPasswordHasher({ memoryKib: 19_456, iterations: 2 }).hash(randomBytes(24).toString("base64url"));
      await em.execute(
        `with added as (
           insert into users (username, email, password, is_active, date_joined, created_at, updated_at)
             select u, e, ?, true, now(), now(), now() from unnest(?::text[], ?::text[]) as t(u, e)
           on conflict (username) do nothing
           returning id)
         insert into user_profiles (user_id) select id from added`,
        [hash, pgArray(usernames), pgArray(population.users.map((u) => u.email))],
      );
    }
    const ids = new Map((await em.execute<{ id: string; username: string }[]>("select id::text as id, username from users where username = any(?::text[])", [pgArray(usernames)])).map((r) => [r.username, r.id]));
    const movieIds = new Map(
      (await em.execute<{ id: string; tmdb_id: number }[]>("select id::text as id, tmdb_id from movies where tmdb_id = any(?::int[])", [pgArray(catalog.movies.map((m) => m.tmdbId))])).map((r) => [Number(r.tmdb_id), r.id]),
    );
    const user: string[] = [];
    const movie: string[] = [];
    const type: string[] = [];
    const rating: (number | null)[] = [];
    const at: string[] = [];
    for (const u of population.users) {
      const userId = ids.get(u.username);
      if (!userId) continue;
      for (const x of u.interactions) {
        const movieId = movieIds.get(x.movieTmdbId);
        if (!movieId) continue;
        user.push(userId);
        movie.push(movieId);
        type.push(x.type);
        rating.push(x.rating);
        at.push(new Date(now.getTime() - x.secondsAgo * 1000).toISOString());
      }
    }
    await em.execute(
      `insert into user_movie_interactions (user_id, movie_id, interaction_type, rating, source, "timestamp")
       select u, m, t, r, 'web', ts from unnest(?::bigint[], ?::bigint[], ?::text[], ?::int[], ?::timestamptz[]) as x(u, m, t, r, ts)
       on conflict (user_id, movie_id, interaction_type) do update set rating = excluded.rating, "timestamp" = excluded."timestamp"`,
      [pgArray(user), pgArray(movie), pgArray(type), pgArray(rating), pgArray(at)],
    );
    interactions = user.length;
  });
  return { users: population.users.length, interactions, groups: population.groups.length };
}
