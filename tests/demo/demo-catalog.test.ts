/**
 * The demo catalogue: generated deterministically, and loaded idempotently into a
 * freshly migrated database of its own (loading twice leaves the same rows).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { MikroORM } from "@mikro-orm/postgresql";
import { DEMO_TMDB_ID_BASE, generateDemoCatalog } from "../../src/demo/demo-catalog-data.ts";
import { loadDemoCatalog } from "../../src/demo/demo-catalog.ts";
import { migrateUp } from "../../src/platform/migrations.ts";
import { openOrm } from "../../src/platform/orm.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

const TABLES = [
  "genres", "movies", "persons", "production_companies", "keywords",
  "movie_genres", "movie_production_companies", "movie_keywords", "movie_cast", "movie_crew",
] as const;

describe("generateDemoCatalog", () => {
  it("is deterministic for a seed and different for another seed", () => {
    expect(generateDemoCatalog()).toEqual(generateDemoCatalog());
    expect(generateDemoCatalog({ seed: 7 }).movies.map((m) => m.title)).not.toEqual(generateDemoCatalog().movies.map((m) => m.title));
  });

  it("has TMDb's 19 genres, ~60 movies and ~80 people, all with demo-range ids", () => {
    const c = generateDemoCatalog();
    expect(c.genres).toHaveLength(19);
    expect(c.genres).toContainEqual({ tmdbId: 878, name: "Science Fiction", slug: "science-fiction" });
    expect(c.genres).toContainEqual({ tmdbId: 10751, name: "Family", slug: "family" });
    expect(c.movies).toHaveLength(60);
    expect(c.persons).toHaveLength(80);
    expect(c.companies).toHaveLength(10);
    expect(new Set(c.movies.map((m) => m.title)).size).toBe(c.movies.length);
    expect(new Set(c.persons.map((p) => p.name)).size).toBe(c.persons.length);
    for (const m of c.movies) expect(m.tmdbId).toBeGreaterThan(DEMO_TMDB_ID_BASE.movie);
    for (const p of c.persons) expect(p.tmdbId).toBeGreaterThan(DEMO_TMDB_ID_BASE.person);
  });

  it("gives every movie 2-3 distinct genres, ordered cast and a director, and uses every genre", () => {
    const c = generateDemoCatalog();
    const used = new Set<number>();
    for (const m of c.movies) {
      expect(m.genreTmdbIds.length).toBeGreaterThanOrEqual(2);
      expect(m.genreTmdbIds.length).toBeLessThanOrEqual(3);
      expect(new Set(m.genreTmdbIds).size).toBe(m.genreTmdbIds.length);
      m.genreTmdbIds.forEach((g) => used.add(g));
      expect(m.cast.map((a) => a.order)).toEqual(m.cast.map((_, i) => i));
      expect(new Set(m.cast.map((a) => a.personTmdbId)).size).toBe(m.cast.length);
      expect(m.crew.filter((w) => w.job === "Director")).toHaveLength(1);
      expect(m.crew.some((w) => w.department === "Writing")).toBe(true);
      expect(m.crew.some((w) => w.job === "Producer" && w.department === "Production")).toBe(true);
      expect(m.runtime).toBeGreaterThan(0);
      expect(m.releaseDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    expect(used.size).toBe(19);
  });
});

describe("loadDemoCatalog", () => {
  let db: TestDatabase;
  let orm: MikroORM;
  const query = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => orm.em.fork().execute<T[]>(sql, params);
  const countAll = async () => {
    const counts: Record<string, number> = {};
    for (const t of TABLES) counts[t] = (await query<{ n: number }>(`select count(*)::int as n from ${t}`))[0]!.n;
    return counts;
  };

  beforeAll(async () => {
    db = await createTestDatabase("demo_catalog", inject("adminDatabaseUrl"));
    orm = await openOrm(db.url, { poolMax: 2 });
    await migrateUp(orm);
  });
  afterAll(async () => {
    await orm?.close(true);
    await db?.drop();
  });

  it("loads the catalogue, and a second load leaves exactly the same rows", async () => {
    const catalog = generateDemoCatalog();
    const first = await loadDemoCatalog(orm);
    expect(first).toMatchObject({ movies: 60, genres: 19, persons: 80 });
    const afterFirst = await countAll();
    expect(afterFirst).toMatchObject({ movies: 60, genres: 19, persons: 80, production_companies: 10 });
    expect(afterFirst.movie_cast).toBe(catalog.movies.reduce((n, m) => n + m.cast.length, 0));
    expect(afterFirst.movie_crew).toBe(catalog.movies.reduce((n, m) => n + m.crew.length, 0));
    const idsBefore = await query<{ id: string }>("select id::text as id from movies order by tmdb_id");

    const second = await loadDemoCatalog(orm);
    expect(second).toEqual(first);
    expect(await countAll()).toEqual(afterFirst);
    // Upserts, not delete-and-reinsert: ids (which interactions reference) are stable across loads.
    expect(await query("select id::text as id from movies order by tmdb_id")).toEqual(idsBefore);
  });

  it("stores the generated values", async () => {
    const m = generateDemoCatalog().movies[0]!;
    const [row] = await query<{ title: string; release_date: string; runtime: number; genres: string[]; director: string }>(
      `select mv.title, to_char(mv.release_date, 'YYYY-MM-DD') as release_date, mv.runtime,
         (select array_agg(g.tmdb_id::text order by g.tmdb_id) from movie_genres mg join genres g on g.id = mg.genre_id where mg.movie_id = mv.id) as genres,
         (select p.tmdb_id::text from movie_crew c join persons p on p.id = c.person_id where c.movie_id = mv.id and c.job = 'Director') as director
       from movies mv where mv.tmdb_id = ?`,
      [m.tmdbId],
    );
    expect(row).toEqual({
      title: m.title,
      release_date: m.releaseDate,
      runtime: m.runtime,
      genres: [...m.genreTmdbIds].sort((a, b) => a - b).map(String),
      director: String(m.crew.find((w) => w.job === "Director")!.personTmdbId),
    });
  });

  it("is consistent: every movie has a genre, billing orders are unique per movie, every crew job has a department", async () => {
    expect(await query("select id from movies m where not exists (select 1 from movie_genres mg where mg.movie_id = m.id)")).toEqual([]);
    expect(await query('select movie_id, "order" from movie_cast group by movie_id, "order" having count(*) > 1')).toEqual([]);
    expect(await query("select id from movie_crew where department = '' or job = ''")).toEqual([]);
    expect(await query("select id from movies m where not exists (select 1 from movie_crew c where c.movie_id = m.id and c.job = 'Director')")).toEqual([]);
  });

  it("keeps what users changed (view counts, deactivation) when loading again", async () => {
    const tmdbId = generateDemoCatalog().movies[3]!.tmdbId;
    await query("update movies set view_count = 42, is_active = false where tmdb_id = ?", [tmdbId]);
    await loadDemoCatalog(orm);
    expect(await query("select view_count, is_active from movies where tmdb_id = ?", [tmdbId])).toEqual([{ view_count: 42, is_active: false }]);
  });
});
