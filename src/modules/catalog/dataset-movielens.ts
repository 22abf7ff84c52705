/**
 * MovieLens (ml-latest-small): `links.csv` maps MovieLens ids to TMDb ids; `movies.csv` adds the movies TMDb 5000
 * lacks (title and genres only); `ratings.csv` becomes `rating` interactions of users created as needed.
 *
 * Rules (also in the README):
 * - Half stars → the design's 1–5 integers by rounding up: 0.5→1, 1.5→2, … 4.5→5 (`ceil`); MovieLens has no 0
 *   rating, and rounding up keeps 0.5 (the lowest MovieLens grade) a valid 1 rather than dropping it.
 * - Each MovieLens user becomes `ml_<userId>` (email `ml_<userId>@movielens.invalid`, a reserved domain) with an
 *   unusable password (`!` prefix, the Django convention: no hash ever matches it) and `is_active = false`, so
 *   nobody can sign in as them; their ratings still train the recommenders. Original timestamps are kept.
 * - A movie that already exists (from TMDb) is not overwritten: only a missing IMDb id is filled in and genres are
 *   added to movies that have none. New movies get the title without the year, articles moved back to the front.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { field, importCsvInBatches, RowError, type FileReport, type Parsed } from "./dataset-batches.ts";
import { parseCsv } from "./dataset-csv.ts";
import type { SqlClient } from "./import-sql.ts";
import { clip, upsertGenres } from "./upsert-catalog.ts";

/** MovieLens genre → TMDb genre (id, name). IMAX and "(no genres listed)" have no TMDb counterpart. */
const GENRES: Readonly<Record<string, { tmdbId: number; name: string }>> = {
  Action: { tmdbId: 28, name: "Action" },
  Adventure: { tmdbId: 12, name: "Adventure" },
  Animation: { tmdbId: 16, name: "Animation" },
  Children: { tmdbId: 10751, name: "Family" },
  Comedy: { tmdbId: 35, name: "Comedy" },
  Crime: { tmdbId: 80, name: "Crime" },
  Documentary: { tmdbId: 99, name: "Documentary" },
  Drama: { tmdbId: 18, name: "Drama" },
  Fantasy: { tmdbId: 14, name: "Fantasy" },
  "Film-Noir": { tmdbId: 80, name: "Crime" },
  Horror: { tmdbId: 27, name: "Horror" },
  Musical: { tmdbId: 10402, name: "Music" },
  Mystery: { tmdbId: 9648, name: "Mystery" },
  Romance: { tmdbId: 10749, name: "Romance" },
  "Sci-Fi": { tmdbId: 878, name: "Science Fiction" },
  Thriller: { tmdbId: 53, name: "Thriller" },
  War: { tmdbId: 10752, name: "War" },
  Western: { tmdbId: 37, name: "Western" },
};

/** A MovieLens half-star rating (0.5–5.0) on the design's 1–5 integer scale: rounded up. */
export function movieLensStars(rating: number): number {
  return Math.min(5, Math.max(1, Math.ceil(rating)));
}

/** "American President, The (1995)" → "The American President"; alternative titles in parentheses dropped. */
export function movieLensTitle(raw: string): string {
  let t = raw.trim().replace(/\s*\(\d{4}(?:[–-]\d{0,4})?\)\s*$/, "");
  const alt = /^(.+?)\s+\((?:a\.k\.a\. )?[^()]+\)$/.exec(t);
  if (alt) t = alt[1]!;
  const article = /^(.*), (The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El|Los|Las)$/.exec(t);
  if (article) t = article[2]!.endsWith("'") ? `${article[2]}${article[1]}` : `${article[2]} ${article[1]}`;
  return t.trim() || raw.trim();
}

/** MovieLens movie id → TMDb id and IMDb id (`tt` + at least 7 digits), from `links.csv`. */
export interface Links {
  readonly tmdb: Map<number, number>;
  readonly imdb: Map<number, string>;
}

export async function readLinks(dir: string): Promise<Links> {
  const records = parseCsv(await readFile(path.join(dir, "links.csv"), "utf8"));
  const links: Links = { tmdb: new Map(), imdb: new Map() };
  for (const r of records.slice(1)) {
    const [movieId, imdbId, tmdbId] = r.fields.map((f) => f.trim());
    const ml = Number(movieId);
    if (r.error || !Number.isInteger(ml)) continue;
    if (tmdbId && /^\d+$/.test(tmdbId) && Number(tmdbId) > 0) links.tmdb.set(ml, Number(tmdbId));
    if (imdbId && /^\d+$/.test(imdbId)) links.imdb.set(ml, `tt${imdbId.padStart(7, "0")}`);
  }
  return links;
}

interface MlMovie {
  tmdbId: number;
  imdbId: string | null;
  title: string;
  genreIds: number[];
}

async function applyMovies(client: SqlClient, movies: MlMovie[], onChanged?: (movieIds: string[]) => void) {
  const unique = [...new Map(movies.map((m) => [m.tmdbId, m])).values()];
  const genres = await upsertGenres(client, [...new Map(Object.values(GENRES).map((g) => [g.tmdbId, g])).values()]);
  const inserted = await client.query<{ id: string; tmdb_id: number }>(
    `insert into movies (tmdb_id, title, original_title, original_language)
       select t, title, title, '' from unnest($1::int[], $2::text[]) as u(t, title)
     on conflict (tmdb_id) do nothing returning id, tmdb_id`,
    [unique.map((m) => m.tmdbId), unique.map((m) => clip(m.title, 200))],
  );
  // Fill a missing IMDb id unless another movie already has it (two MovieLens entries can share one).
  const imdb = await client.query<{ id: string; tmdb_id: number }>(
    `update movies m set imdb_id = u.imdb, updated_at = now()
       from unnest($1::int[], $2::text[]) as u(t, imdb)
      where m.tmdb_id = u.t and m.imdb_id is null and u.imdb is not null
        and not exists (select 1 from movies o where o.imdb_id = u.imdb)
      returning m.id, m.tmdb_id`,
    [unique.map((m) => m.tmdbId), unique.map((m) => m.imdbId)],
  );
  // Genres only for movies that have none: TMDb's own genres, where present, are better than MovieLens'.
  const pairs = unique.flatMap((m) => [...new Set(m.genreIds)].map((g) => [m.tmdbId, genres.ids.get(g)] as const));
  const withGenres = await client.query<{ id: string; tmdb_id: number }>(
    `insert into movie_genres (movie_id, genre_id)
       select m.id, u.g from unnest($1::int[], $2::bigint[]) as u(t, g) join movies m on m.tmdb_id = u.t
        where not exists (select 1 from movie_genres x where x.movie_id = m.id)
     on conflict do nothing returning movie_id as id, (select tmdb_id from movies where id = movie_id)`,
    [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
  );
  onChanged?.([...new Set([...inserted.rows, ...imdb.rows, ...withGenres.rows].map((r) => String(r.id)))]);
  const isNew = new Set(inserted.rows.map((r) => r.tmdb_id));
  const changed = new Set([...imdb.rows, ...withGenres.rows].map((r) => r.tmdb_id).filter((t) => !isNew.has(t)));
  return { imported: isNew.size, updated: changed.size, unchanged: unique.length - isNew.size - changed.size };
}

type Progress = (r: Readonly<FileReport>) => void;

/** Imports `movies.csv`: movies missing from the catalogue, IMDb ids, genres where there are none. */
export async function importMovieLensMovies(
  pool: pg.Pool,
  opts: { dir: string; links: Links; limit?: number; batchSize?: number; onProgress?: Progress; onChanged?: (movieIds: string[]) => void },
) {
  return importCsvInBatches<MlMovie>(pool, {
    path: path.join(opts.dir, "movies.csv"),
    columns: ["movieId", "title", "genres"],
    parse(row): Parsed<MlMovie> {
      const ml = field.int(row, "movieId", { min: 1 })!;
      const tmdbId = opts.links.tmdb.get(ml);
      if (tmdbId === undefined) return { skip: "no TMDb id in links.csv" };
      const title = movieLensTitle(row.title ?? "");
      if (title === "") throw new RowError("title: empty");
      const genreIds = (row.genres ?? "").split("|").flatMap((g) => (GENRES[g.trim()] ? [GENRES[g.trim()]!.tmdbId] : []));
      return { item: { tmdbId, imdbId: opts.links.imdb.get(ml) ?? null, title, genreIds } };
    },
    apply: (client, movies) => applyMovies(client, movies, opts.onChanged),
    batchSize: opts.batchSize ?? 2000,
    limit: opts.limit,
    onProgress: opts.onProgress,
  });
}

interface MlRating {
  userId: number;
  tmdbId: number;
  stars: number;
  /** Unix seconds. */
  at: number;
}

/** `ml_<id>` users for the MovieLens ids not seen yet; fills `userIds` (MovieLens id → users.id). */
export async function ensureUsers(client: SqlClient, mlIds: number[], userIds: Map<number, string>): Promise<void> {
  const missing = [...new Set(mlIds)].filter((id) => !userIds.has(id));
  if (missing.length === 0) return;
  const names = missing.map((id) => `ml_${id}`);
  await client.query(
    // With the profile every user has (a user without one could not be read by GetUser/ListUsers).
    `with added as (
       insert into users (username, email, password, is_active)
         select n, n || '@movielens.invalid', '!movielens-import', false from unnest($1::text[]) as u(n)
       on conflict (username) do nothing
       returning id)
     insert into user_profiles (user_id) select id from added`,
    [names],
  );
  const rows = await client.query<{ id: string; username: string }>("select id, username from users where username = any($1::text[])", [names]);
  for (const r of rows.rows) userIds.set(Number(r.username.slice(3)), String(r.id));
}

/** Imports `ratings.csv` as `rating` interactions (see the module comment for the rules). */
export async function importMovieLensRatings(pool: pg.Pool, opts: { dir: string; links: Links; limit?: number; batchSize?: number; onProgress?: Progress }) {
  const userIds = new Map<number, string>();
  const movieIds = new Map<number, string>();
  const tmdbIds = [...new Set(opts.links.tmdb.values())];
  const rows = await pool.query<{ id: string; tmdb_id: number }>("select id, tmdb_id from movies where tmdb_id = any($1::int[])", [tmdbIds]);
  for (const r of rows.rows) movieIds.set(r.tmdb_id, String(r.id));

  return importCsvInBatches<MlRating>(pool, {
    path: path.join(opts.dir, "ratings.csv"),
    columns: ["userId", "movieId", "rating", "timestamp"],
    parse(row): Parsed<MlRating> {
      const userId = field.int(row, "userId", { min: 1 })!;
      const ml = field.int(row, "movieId", { min: 1 })!;
      const rating = field.float(row, "rating", { min: 0.5, max: 5 })!;
      if (!Number.isInteger(rating * 2)) throw new RowError(`rating: ${rating} is not a multiple of 0.5`);
      const at = field.int(row, "timestamp", { min: 0 })!;
      const tmdbId = opts.links.tmdb.get(ml);
      if (tmdbId === undefined) return { skip: "movie has no TMDb id in links.csv" };
      if (!movieIds.has(tmdbId)) return { skip: "movie not in the catalogue (import movies.csv first)" };
      return { item: { userId, tmdbId, stars: movieLensStars(rating), at } };
    },
    async apply(client, ratings) {
      await ensureUsers(client, ratings.map((r) => r.userId), userIds);
      // One interaction per (user, movie): two MovieLens ids can map to one TMDb movie; the later rating wins.
      const unique = [...new Map(ratings.map((r) => [`${r.userId}/${r.tmdbId}`, r])).values()];
      const written = await client.query<{ inserted: boolean }>(
        `insert into user_movie_interactions (user_id, movie_id, interaction_type, rating, source, "timestamp")
           select u, m, 'rating', s, 'web', to_timestamp(t) from unnest($1::bigint[], $2::bigint[], $3::int[], $4::float8[]) as x(u, m, s, t)
         on conflict (user_id, movie_id, interaction_type) do update set rating = excluded.rating, "timestamp" = excluded."timestamp"
           where (user_movie_interactions.rating, user_movie_interactions."timestamp") is distinct from (excluded.rating, excluded."timestamp")
         returning (xmax = 0) as inserted`,
        [unique.map((r) => userIds.get(r.userId)), unique.map((r) => movieIds.get(r.tmdbId)), unique.map((r) => r.stars), unique.map((r) => r.at)],
      );
      const imported = written.rows.filter((r) => r.inserted).length;
      const updated = written.rows.length - imported;
      return { imported, updated, unchanged: ratings.length - imported - updated };
    },
    batchSize: opts.batchSize ?? 5000,
    limit: opts.limit,
    onProgress: opts.onProgress,
  });
}
