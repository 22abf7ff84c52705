/**
 * Loads the generated demo catalogue (demo-catalog-data.ts) into the migrated
 * schema with plain SQL, in one transaction, idempotently: entities are upserted
 * by their TMDb id, and the demo movies' genre, company, keyword, cast and crew
 * links are replaced, so running the demo twice leaves exactly the same rows.
 * Counters that users change (view_count, like_count, our_rating, is_active) are
 * set on first insert only and never reset by a later load.
 */
import type { EntityManager, MikroORM } from "@mikro-orm/postgresql";
import { generateDemoCatalog, type DemoCatalog } from "./demo-catalog-data.ts";

/** How many rows of each kind the demo catalogue holds (and now exist in the database). */
export interface DemoCatalogCounts {
  movies: number;
  genres: number;
  persons: number;
  companies: number;
  keywords: number;
}

/** Upserts the demo catalogue into the database behind `orm`; safe to run any number of times. */
export async function loadDemoCatalog(orm: MikroORM, catalog: DemoCatalog = generateDemoCatalog()): Promise<DemoCatalogCounts> {
  await orm.em.fork().transactional(async (em) => {
    await upsertGenres(em, catalog);
    await upsertCompanies(em, catalog);
    await upsertKeywords(em, catalog);
    await upsertPersons(em, catalog);
    await upsertMovies(em, catalog);
    await replaceMovieLinks(em, catalog);
  });
  return {
    movies: catalog.movies.length,
    genres: catalog.genres.length,
    persons: catalog.persons.length,
    companies: catalog.companies.length,
    keywords: catalog.keywords.length,
  };
}

/** `(?, ?, ?), (?, ?, ?)` for `rows`, with their values flattened into one parameter list. */
function values(rows: readonly (readonly unknown[])[], extraSql = ""): { sql: string; params: unknown[] } {
  const sql = rows.map((r) => `(${r.map(() => "?").join(", ")}${extraSql})`).join(",\n");
  return { sql, params: rows.flat() };
}

async function upsertGenres(em: EntityManager, c: DemoCatalog): Promise<void> {
  const v = values(c.genres.map((g) => [g.tmdbId, g.name, g.slug]), ", now()");
  await em.execute(
    `insert into genres (tmdb_id, name, slug, created_at) values ${v.sql}
     on conflict (tmdb_id) do update set name = excluded.name, slug = excluded.slug`,
    v.params,
  );
}

async function upsertCompanies(em: EntityManager, c: DemoCatalog): Promise<void> {
  const v = values(c.companies.map((p) => [p.tmdbId, p.name, p.originCountry]), ", now()");
  await em.execute(
    `insert into production_companies (tmdb_id, name, origin_country, created_at) values ${v.sql}
     on conflict (tmdb_id) do update set name = excluded.name, origin_country = excluded.origin_country`,
    v.params,
  );
}

async function upsertKeywords(em: EntityManager, c: DemoCatalog): Promise<void> {
  const v = values(c.keywords.map((k) => [k.tmdbId, k.name]), ", now()");
  await em.execute(
    `insert into keywords (tmdb_id, name, created_at) values ${v.sql}
     on conflict (tmdb_id) do update set name = excluded.name`,
    v.params,
  );
}

async function upsertPersons(em: EntityManager, c: DemoCatalog): Promise<void> {
  const v = values(
    c.persons.map((p) => [p.tmdbId, p.name, p.biography, p.birthday, p.placeOfBirth, p.knownForDepartment, p.popularity]),
    ", now()",
  );
  await em.execute(
    `insert into persons (tmdb_id, name, biography, birthday, place_of_birth, known_for_department, popularity, created_at)
     values ${v.sql}
     on conflict (tmdb_id) do update set
       name = excluded.name, biography = excluded.biography, birthday = excluded.birthday,
       place_of_birth = excluded.place_of_birth, known_for_department = excluded.known_for_department,
       popularity = excluded.popularity`,
    v.params,
  );
}

async function upsertMovies(em: EntityManager, c: DemoCatalog): Promise<void> {
  const v = values(
    c.movies.map((m) => [
      m.tmdbId, m.title, m.originalTitle, m.overview, m.tagline, m.releaseDate, m.runtime, m.budget, m.revenue,
      m.status, m.tmdbRating, m.tmdbVoteCount, m.popularity, m.originalLanguage,
    ]),
    ", false, false, now(), now()",
  );
  await em.execute(
    `insert into movies (tmdb_id, title, original_title, overview, tagline, release_date, runtime, budget, revenue,
       status, tmdb_rating, tmdb_vote_count, popularity_score, original_language, adult, video, created_at, updated_at)
     values ${v.sql}
     on conflict (tmdb_id) do update set
       title = excluded.title, original_title = excluded.original_title, overview = excluded.overview,
       tagline = excluded.tagline, release_date = excluded.release_date, runtime = excluded.runtime,
       budget = excluded.budget, revenue = excluded.revenue, status = excluded.status,
       tmdb_rating = excluded.tmdb_rating, tmdb_vote_count = excluded.tmdb_vote_count,
       popularity_score = excluded.popularity_score, original_language = excluded.original_language,
       updated_at = now()`,
    v.params,
  );
}

/**
 * Replaces the demo movies' links. Cast and crew have no natural unique key to
 * upsert on (an actor may play two parts), so delete-then-insert inside the
 * load's transaction is what makes a second load a no-op.
 */
async function replaceMovieLinks(em: EntityManager, c: DemoCatalog): Promise<void> {
  const ids = c.movies.map((m) => m.tmdbId);
  const demoMovies = `select id from movies where tmdb_id in (${ids.map(() => "?").join(", ")})`;
  for (const table of ["movie_genres", "movie_production_companies", "movie_keywords", "movie_cast", "movie_crew"]) {
    await em.execute(`delete from ${table} where movie_id in (${demoMovies})`, ids);
  }

  const link = async (table: string, column: string, target: string, pairs: Array<[number, number]>) => {
    const v = values(pairs);
    await em.execute(
      `insert into ${table} (movie_id, ${column})
       select m.id, t.id from (values ${v.sql}) as v (movie_tmdb_id, target_tmdb_id)
       join movies m on m.tmdb_id = v.movie_tmdb_id
       join ${target} t on t.tmdb_id = v.target_tmdb_id`,
      v.params,
    );
  };
  await link("movie_genres", "genre_id", "genres", c.movies.flatMap((m) => m.genreTmdbIds.map((g) => [m.tmdbId, g] as [number, number])));
  await link(
    "movie_production_companies",
    "production_company_id",
    "production_companies",
    c.movies.flatMap((m) => m.companyTmdbIds.map((p) => [m.tmdbId, p] as [number, number])),
  );
  await link("movie_keywords", "keyword_id", "keywords", c.movies.flatMap((m) => m.keywordTmdbIds.map((k) => [m.tmdbId, k] as [number, number])));

  const cast = values(c.movies.flatMap((m) => m.cast.map((a) => [m.tmdbId, a.personTmdbId, a.character, a.order])));
  await em.execute(
    `insert into movie_cast (movie_id, person_id, "character", "order", created_at)
     select m.id, p.id, v.character, v.billing, now()
     from (values ${cast.sql}) as v (movie_tmdb_id, person_tmdb_id, character, billing)
     join movies m on m.tmdb_id = v.movie_tmdb_id
     join persons p on p.tmdb_id = v.person_tmdb_id`,
    cast.params,
  );
  const crew = values(c.movies.flatMap((m) => m.crew.map((w) => [m.tmdbId, w.personTmdbId, w.job, w.department])));
  await em.execute(
    `insert into movie_crew (movie_id, person_id, job, department, created_at)
     select m.id, p.id, v.job, v.department, now()
     from (values ${crew.sql}) as v (movie_tmdb_id, person_tmdb_id, job, department)
     join movies m on m.tmdb_id = v.movie_tmdb_id
     join persons p on p.tmdb_id = v.person_tmdb_id`,
    crew.params,
  );
}
