/**
 * Every main catalogue query uses an index at the design's movie count: 50,000 generated movies and the 9,742 real
 * titles of the MovieLens fixture
 * (with 50 genres, 200,000 people and 7 credits per movie: the bench's 1.5 million credits would make
 * the test slow, and the credit tables are only ever read by movie or person id) in a database of its own, analysed, then EXPLAINed.
 * A sequential scan of movies, persons or a link table fails the test. The bench runs the same
 * check at the full volume.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRealTitles, explainCatalogQueries, generateCatalogVolume } from "../../src/bench/catalog-bench.ts";
import { openTestDatabase, type MigratedDatabase } from "../db/helpers.ts";

let db: MigratedDatabase;
let plans: Awaited<ReturnType<typeof explainCatalogQueries>>;

beforeAll(async () => {
  db = await openTestDatabase("movierec_explain");
  await generateCatalogVolume(db.orm.em.fork(), { movies: 50_000, genres: 50, persons: 200_000, castPerMovie: 5, crewPerMovie: 2, companies: 5_000 });
  // Real titles too: their common words ("the", "star") are what made a typo query's plan read every movie.
  await addRealTitles(db.orm.em.fork());
  plans = await explainCatalogQueries(db.orm.em.fork());
}, 120_000);
afterAll(async () => {
  await db?.close();
});

describe("EXPLAIN at 50,000 movies", () => {
  it("generated the volume", async () => {
    const rows = await db.orm.em.fork().execute<{ n: string }[]>("select count(*) as n from movies");
    expect(Number(rows[0]!.n)).toBe(50_002 + 9_742);
  });

  it("checks every main query", () => {
    expect(plans.map((p) => p.name)).toEqual(
      expect.arrayContaining(["GetMovie by id", "ListMovies Action 2000s by rating", "SearchMovies typo", "SearchMovies typo, common trigrams", "SearchMovies person"]),
    );
  });

  it("never scans a big table sequentially", () => {
    const offenders = plans.filter((p) => p.seqScans.length > 0).map((p) => `${p.name}: ${p.seqScans.join(", ")}`);
    expect(offenders).toEqual([]);
  });

  it("uses the weighted full-text and trigram indexes for search", () => {
    const search = JSON.stringify(plans.find((p) => p.name === "SearchMovies title word")!.plan);
    expect(search).toContain("idx_movies_search_document");
    const typo = JSON.stringify(plans.find((p) => p.name === "SearchMovies typo")!.plan);
    expect(typo).toContain("idx_movies_title_trgm");
    const person = JSON.stringify(plans.find((p) => p.name === "SearchMovies person")!.plan);
    expect(person).toContain("idx_persons_name_search");
  });
});
