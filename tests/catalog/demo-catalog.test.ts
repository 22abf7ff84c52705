/**
 * The README's grpcurl examples run against the demo catalogue: GetMovie, ListMovies and
 * SearchMovies (by title, by a typo, by a person) must work on it. The demo is loaded into a
 * database of its own, read through the catalogue's use cases.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { Redis } from "ioredis";
import { generateDemoCatalog } from "../../src/demo/demo-catalog-data.ts";
import { loadDemoCatalog } from "../../src/demo/demo-catalog.ts";
import { createCatalogService } from "../../src/modules/catalog/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { openTestDatabase, type MigratedDatabase } from "../db/helpers.ts";
import { tag } from "./fixtures.ts";
import { openTestRedis } from "../support/redis.ts";

let db: MigratedDatabase;
let redis: Redis;
let catalog: ReturnType<typeof createCatalogService>;
const demo = generateDemoCatalog();

beforeAll(async () => {
  db = await openTestDatabase("movierec_demo_catalog");
  await loadDemoCatalog(db.orm);
  redis = await openTestRedis(`${inject("redisPrefix")}:demo-${tag()}:`);
  catalog = createCatalogService({ orm: db.orm, redis, log: createLogger({ level: "silent" }) });
});
afterAll(async () => {
  redis?.disconnect();
  await db?.close();
});

describe("the demo catalogue", () => {
  it("serves GetMovie by TMDb id with cast and crew", async () => {
    const m = demo.movies[0]!;
    const d = await catalog.getMovie({ by: "tmdb", tmdbId: m.tmdbId });
    expect(d.movie.title).toBe(m.title);
    expect(d.cast.length).toBe(m.cast.length);
    expect(d.crew.length).toBe(m.crew.length);
    expect(d.movie.genres.length).toBe(m.genreTmdbIds.length);
  });

  it("lists a genre by rating and pages through all of it", async () => {
    const genres = await catalog.listGenres({});
    expect(genres.items.length).toBe(demo.genres.length);
    const action = genres.items.find((g) => g.name === "Action") ?? genres.items[0]!;
    const seen: string[] = [];
    let token = "";
    do {
      const page = await catalog.listMovies({ genreIds: [action.id], orderBy: "rating", pageSize: 3, pageToken: token });
      seen.push(...page.items.map((x) => x.id));
      token = page.nextPageToken;
    } while (token && seen.length < 1000);
    const tmdbAction = demo.genres.find((g) => g.name === action.name)!.tmdbId;
    expect(seen.length).toBe(demo.movies.filter((x) => x.genreTmdbIds.includes(tmdbAction)).length);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("finds a movie by its title, by a typo in it, and by a person in it", async () => {
    const m = [...demo.movies].sort((a, b) => b.title.length - a.title.length)[0]!;
    expect((await catalog.searchMovies({ query: m.title })).items[0]?.title).toBe(m.title);
    const longest = m.title.split(" ").sort((a, b) => b.length - a.length)[0]!;
    // Drop one inner letter of the longest word.
    const typo = m.title.replace(longest, longest.slice(0, 2) + longest.slice(3));
    expect((await catalog.searchMovies({ query: typo })).items.map((x) => x.title)).toContain(m.title);
    const director = demo.persons.find((p) => p.tmdbId === m.crew.find((c) => c.job === "Director")?.personTmdbId);
    if (director) expect((await catalog.searchMovies({ query: director.name, pageSize: 100 })).items.map((x) => x.title)).toContain(m.title);
  });
});
