/**
 * Catalogue rows for tests, written with plain SQL. Tests share one database, so every fixture
 * carries a random tag (in TMDb ids, names and titles) and tests filter on it rather than
 * assuming an empty table.
 */
import { randomBytes, randomInt } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import { CatalogCache } from "../../src/modules/catalog/index.ts";
import { createLogger } from "../../src/platform/logger.ts";

export const tag = () => randomBytes(4).toString("hex");
/** A TMDb-like id unlikely to collide with other tests' rows (ids above the real TMDb range). */
export const tmdbId = () => randomInt(100_000_000, 2_000_000_000);

export interface MovieSeed {
  title: string;
  originalTitle?: string;
  overview?: string;
  tagline?: string;
  releaseDate?: string | null;
  tmdbRating?: number | null;
  voteCount?: number;
  popularity?: number;
  language?: string;
  status?: string;
  adult?: boolean;
  imdbId?: string | null;
  isActive?: boolean;
  genreIds?: string[];
  tmdbId?: number;
}

async function one<T>(orm: MikroORM, sql: string, params: unknown[]): Promise<T> {
  const rows = await orm.em.fork().execute<T[]>(sql, params);
  return rows[0]!;
}

export async function insertGenre(orm: MikroORM, name: string): Promise<string> {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 50);
  return (await one<{ id: string }>(orm, "insert into genres (tmdb_id, name, slug) values (?, ?, ?) returning id::text as id", [tmdbId(), name, slug])).id;
}

export async function insertMovie(orm: MikroORM, m: MovieSeed): Promise<string> {
  const row = await one<{ id: string }>(
    orm,
    `insert into movies (tmdb_id, imdb_id, title, original_title, overview, tagline, release_date, tmdb_rating, tmdb_vote_count,
                         popularity_score, original_language, status, adult, is_active)
     values (?, ?, ?, ?, ?, ?, ?::date, ?, ?, ?, ?, ?, ?, ?) returning id::text as id`,
    [
      m.tmdbId ?? tmdbId(), m.imdbId ?? null, m.title, m.originalTitle ?? m.title, m.overview ?? "", m.tagline ?? "",
      m.releaseDate === undefined ? "2001-01-01" : m.releaseDate, m.tmdbRating === undefined ? 7 : m.tmdbRating, m.voteCount ?? 100,
      m.popularity ?? 10, m.language ?? "en", m.status ?? "Released", m.adult ?? false, m.isActive ?? true,
    ],
  );
  for (const g of m.genreIds ?? []) {
    await orm.em.fork().execute("insert into movie_genres (movie_id, genre_id) values (?, ?)", [row.id, g]);
  }
  return row.id;
}

export async function insertPerson(orm: MikroORM, name: string, opts: { popularity?: number; department?: string; biography?: string } = {}): Promise<string> {
  return (
    await one<{ id: string }>(
      orm,
      "insert into persons (tmdb_id, name, biography, known_for_department, popularity) values (?, ?, ?, ?, ?) returning id::text as id",
      [tmdbId(), name, opts.biography ?? "", opts.department ?? "Acting", opts.popularity ?? 1],
    )
  ).id;
}

export async function addCast(orm: MikroORM, movieId: string, personId: string, character: string, order: number): Promise<void> {
  await orm.em.fork().execute(`insert into movie_cast (movie_id, person_id, "character", "order") values (?, ?, ?, ?)`, [movieId, personId, character, order]);
}

export async function addCrew(orm: MikroORM, movieId: string, personId: string, job: string, department: string): Promise<void> {
  await orm.em.fork().execute("insert into movie_crew (movie_id, person_id, job, department) values (?, ?, ?, ?)", [movieId, personId, job, department]);
}

export async function addCompany(orm: MikroORM, movieId: string, name: string): Promise<string> {
  const c = await one<{ id: string }>(orm, "insert into production_companies (tmdb_id, name, origin_country) values (?, ?, 'US') returning id::text as id", [tmdbId(), name]);
  await orm.em.fork().execute("insert into movie_production_companies (movie_id, production_company_id) values (?, ?)", [movieId, c.id]);
  return c.id;
}

/** What an importer does after writing with SQL: bump the cache generations (fixtures bypass the service). */
export async function invalidateCatalogCache(redis: Redis, movieIds: string[] = []): Promise<void> {
  await new CatalogCache({ redis, log: createLogger({ level: "silent" }) }).invalidateMovies(movieIds);
}
