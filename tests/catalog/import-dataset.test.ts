/**
 * Dataset bulk import against a private migrated database, from the repository's own fixtures (tests/fixtures: a
 * TMDb-5000-format file built from MIT-licensed TMDb recordings and a MovieLens sample; the full files are the
 * command's and the bench's): idempotent re-runs, malformed rows reported by line and skipped, batches all-or-nothing.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { importMovieLensMovies, importMovieLensRatings, movieLensStars, movieLensTitle, readLinks } from "../../src/modules/catalog/dataset-movielens.ts";
import { importDatasets, parseImportArgs, runImportCommand } from "../../src/modules/catalog/dataset-import.ts";
import { catalogKeys } from "../../src/modules/catalog/catalog-cache.ts";
import { importTmdb5000 } from "../../src/modules/catalog/dataset-tmdb5000.ts";
import { CsvParser, parseCsv } from "../../src/modules/catalog/dataset-csv.ts";
import { openImportPool } from "../../src/modules/catalog/import-sql.ts";
import { slugify } from "../../src/modules/catalog/upsert-catalog.ts";
import { openTestDatabase, type MigratedDatabase } from "../db/helpers.ts";
import { openTestRedis } from "../support/redis.ts";

/** Laid out like a `npm run datasets` folder: tmdb-5000/ and ml-latest-small/. */
const DATA = path.join(import.meta.dirname, "../fixtures");
let t: MigratedDatabase;
let pool: pg.Pool;
let tmp: string;

beforeAll(async () => {
  t = await openTestDatabase("catalog_dataset");
  pool = openImportPool(t.db.url, 2);
  tmp = await mkdtemp(path.join(os.tmpdir(), "movierec-dataset-"));
});
afterAll(async () => {
  await pool?.end();
  await t?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const one = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => (await pool.query<T>(sql, params)).rows[0]!;

describe("CSV reader", () => {
  it("handles quoted commas, doubled quotes, newlines in fields and CRLF, with the line each record starts on", () => {
    const recs = parseCsv('a,b\r\n1,"x, ""y""\nz"\r\n\r\n2,3');
    expect(recs).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 2, fields: ["1", 'x, "y"\nz'] },
      { line: 5, fields: ["2", "3"] },
    ]);
  });

  it("gives the same records whatever the chunk boundaries (CR, LF and quotes split across chunks)", () => {
    for (const text of ['a,b\r\n1,"x\r\ny\rz\n"\r\n2,"q"\n3,3', '"x\r",\n1,2\r\n', 'a\r\rb\r\n\r\nc', '"a""b","c\n\r\nd"\r\ne']) {
      const whole = parseCsv(text);
      for (const size of [1, 2, 3, 7]) {
        const parser = new CsvParser();
        const out = [];
        for (let i = 0; i < text.length; i += size) out.push(...parser.push(text.slice(i, i + size)));
        out.push(...parser.end());
        expect(out, `${JSON.stringify(text)} in chunks of ${size}`).toEqual(whole);
      }
    }
    expect(parseCsv('"x\r",\n1,2')).toEqual([
      { line: 1, fields: ["x\r", ""] },
      { line: 3, fields: ["1", "2"] },
    ]);
  });

  it("flags stray and unterminated quotes on the record's own line", () => {
    const recs = parseCsv('a,b\n1,ab"c\n2,"x"y\n3,"open\n4,5');
    expect(recs.map((r) => [r.line, r.error])).toEqual([
      [1, undefined],
      [2, "unexpected quote in field 2"],
      [3, "text after the closing quote of field 2"],
      [4, "unterminated quoted field 2"],
    ]);
  });
});

describe("TMDb 5000", () => {
  const dir = path.join(DATA, "tmdb-5000");

  it("imports movies with genres (slugged), keywords and companies, and a re-run changes nothing", async () => {
    const first = await importTmdb5000(pool, { dir, batchSize: 40 });
    expect(first).toMatchObject({ rows: 99, imported: 99, updated: 0, unchanged: 0, malformedCount: 0 });
    const fightClub = await one<{ title: string; release_date: string; budget: string; tmdb_rating: string; status: string; genres: string[]; keywords: number; companies: number }>(
      `select m.title, to_char(m.release_date, 'YYYY-MM-DD') as release_date, m.budget, m.tmdb_rating, m.status,
              array(select g.slug from movie_genres mg join genres g on g.id = mg.genre_id where mg.movie_id = m.id order by g.slug) as genres,
              (select count(*)::int from movie_keywords k where k.movie_id = m.id) as keywords,
              (select count(*)::int from movie_production_companies c where c.movie_id = m.id) as companies
         from movies m where m.tmdb_id = 550`,
    );
    expect(fightClub).toEqual({
      title: "Fight Club", release_date: "1999-10-15", budget: "63000000", tmdb_rating: "8.4", status: "Released",
      genres: ["drama"], keywords: 14, companies: 5,
    });
    const before = await one<{ max: Date }>("select max(updated_at) as max from movies");
    const again = await importTmdb5000(pool, { dir, batchSize: 40 });
    expect(again).toMatchObject({ rows: 99, imported: 0, updated: 0, unchanged: 99 });
    expect((await one<{ max: Date }>("select max(updated_at) as max from movies")).max).toEqual(before.max);
  });

  it("refreshes only what changed: an edited title and a removed keyword are restored, reported as updated", async () => {
    await pool.query("update movies set title = 'Wonka (edited)' where tmdb_id = 787699");
    await pool.query("delete from movie_keywords where movie_id = (select id from movies where tmdb_id = 550) and keyword_id in (select id from keywords limit 1000)");
    const r = await importTmdb5000(pool, { dir });
    expect(r).toMatchObject({ imported: 0, updated: 2, unchanged: 97 });
    expect((await one<{ title: string }>("select title from movies where tmdb_id = 787699")).title).toBe("Wonka");
  });

  it("reports malformed rows by line number, skips them, and imports the rest", async () => {
    const lines = (await readFile(path.join(dir, "tmdb_5000_movies.csv"), "utf8")).split("\n");
    const header = lines[0]!;
    const good = (id: number, title: string, extra: Partial<Record<string, string>> = {}) => {
      const row: Record<string, string> = {
        budget: "1000", genres: '[{"id": 18, "name": "Drama"}]', homepage: "", id: String(id), keywords: "[]", original_language: "en",
        original_title: title, overview: "An overview, with a comma", popularity: "1.5", production_companies: "[]", production_countries: "[]",
        release_date: "2001-02-03", revenue: "0", runtime: "95", spoken_languages: "[]", status: "Released", tagline: "", title,
        vote_average: "6.5", vote_count: "10", ...extra,
      };
      return header.split(",").map((c) => `"${(row[c] ?? "").replaceAll('"', '""')}"`).join(",");
    };
    const file = [
      header,
      good(990000001, "Good One"), // line 2
      good(990000002, "Bad Json", { genres: "[{oops" }), // line 3
      good(990000003, "Bad Date", { release_date: "2001-02-30" }), // line 4
      "1,2,3", // line 5: wrong field count
      good(990000004, "Bad Status", { status: "Lost" }), // line 6
      good(990000005, "Good Two"), // line 7
    ].join("\n");
    const sub = path.join(tmp, "bad");
    await import("node:fs/promises").then((fs) => fs.mkdir(sub, { recursive: true }));
    await writeFile(path.join(sub, "tmdb_5000_movies.csv"), file);
    const r = await importTmdb5000(pool, { dir: sub });
    expect(r.rows).toBe(6);
    expect(r.imported).toBe(2);
    expect(r.malformed.map((p) => p.line)).toEqual([3, 4, 5, 6]);
    expect(r.malformed[0]!.error).toMatch(/genres: invalid JSON/);
    expect(r.malformed[1]!.error).toMatch(/release_date/);
    expect(r.malformed[2]!.error).toMatch(/expected 20 fields, found 3/);
    expect(r.malformed[3]!.error).toMatch(/status/);
    const titles = (await pool.query<{ title: string }>("select title from movies where tmdb_id between 990000001 and 990000005 order by tmdb_id")).rows;
    expect(titles.map((x) => x.title)).toEqual(["Good One", "Good Two"]);
  });

  it("never half-applies a batch: a row the database refuses rolls its batch back, which is replayed without it", async () => {
    const lines = (await readFile(path.join(dir, "tmdb_5000_movies.csv"), "utf8")).split("\n");
    const header = lines[0]!.split(",");
    const row = (id: number, title: string, runtime: string, keywordId: number) =>
      header
        .map((c) => ({
          budget: "0", genres: "[]", homepage: "", id: String(id), keywords: `[{"id": ${keywordId}, "name": "kw ${keywordId}"}]`,
          original_language: "en", original_title: title, overview: "", popularity: "0", production_companies: "[]",
          production_countries: "[]", release_date: "", revenue: "0", runtime, spoken_languages: "[]", status: "Released",
          tagline: "", title, vote_average: "0", vote_count: "0",
        })[c] ?? "")
        .map((v) => `"${v.replaceAll('"', '""')}"`)
        .join(",");
    const sub = path.join(tmp, "refused");
    await import("node:fs/promises").then((fs) => fs.mkdir(sub, { recursive: true }));
    // Line 3's runtime overflows PostgreSQL's integer: only the database can tell.
    await writeFile(
      path.join(sub, "tmdb_5000_movies.csv"),
      [header.join(","), row(990000011, "Fine A", "90", 990000111), row(990000012, "Too Long", "3000000000", 990000112), row(990000013, "Fine B", "91", 990000113)].join("\n"),
    );
    const r = await importTmdb5000(pool, { dir: sub, batchSize: 10 });
    expect(r.imported).toBe(2);
    expect(r.malformed).toHaveLength(1);
    expect(r.malformed[0]).toMatchObject({ line: 3 });
    expect(r.malformed[0]!.error).toMatch(/rejected by the database/);
    // Nothing of the refused row survived, not even the keyword written before its movie in the same transaction.
    expect((await one<{ n: number }>("select count(*)::int as n from keywords where tmdb_id = 990000112")).n).toBe(0);
    expect((await one<{ n: number }>("select count(*)::int as n from keywords where tmdb_id in (990000111, 990000113)")).n).toBe(2);
  });
});

describe("MovieLens", () => {
  const dir = path.join(DATA, "ml-latest-small");

  it("maps half stars up onto 1–5 and cleans titles", () => {
    expect([0.5, 1, 1.5, 2.5, 3, 4.5, 5].map(movieLensStars)).toEqual([1, 1, 2, 3, 3, 5, 5]);
    expect(movieLensTitle("American President, The (1995)")).toBe("The American President");
    expect(movieLensTitle("Seven (a.k.a. Se7en) (1995)")).toBe("Seven");
    expect(movieLensTitle("Babylon 5")).toBe("Babylon 5");
    expect(slugify("Science Fiction")).toBe("science-fiction");
  });

  it("adds missing movies, creates inactive ml_ users and keeps the original timestamps; a re-run changes nothing", async () => {
    const links = await readLinks(dir);
    const movies = await importMovieLensMovies(pool, { dir, links });
    expect(movies.skipReasons).toEqual({ "no TMDb id in links.csv": 8 });
    expect(movies.malformedCount).toBe(0);
    // Toy Story is not in the TMDb-format fixture: it arrives from MovieLens, with its IMDb id and genres.
    const toy = await one<{ title: string; imdb_id: string; genres: string[] }>(
      `select title, imdb_id, array(select g.name from movie_genres mg join genres g on g.id = mg.genre_id where mg.movie_id = m.id order by 1) as genres
         from movies m where tmdb_id = 862`,
    );
    expect(toy).toEqual({ title: "Toy Story", imdb_id: "tt0114709", genres: ["Adventure", "Animation", "Comedy", "Family", "Fantasy"] });

    const ratings = await importMovieLensRatings(pool, { dir, links, limit: 3000, batchSize: 1000 });
    expect(ratings.rows).toBe(3000);
    expect(ratings.imported + ratings.skipped + ratings.unchanged).toBe(3000);
    expect(ratings.imported).toBeGreaterThan(2900);
    const user = await one<{ is_active: boolean; password: string; email: string }>("select is_active, password, email from users where username = 'ml_1'");
    expect(user).toEqual({ is_active: false, password: "!movielens-import", email: "ml_1@movielens.invalid" });
    // ratings.csv line 2: user 1 gave movie 1 (Toy Story, TMDb 862) 4.0 at 964982703.
    const first = await one<{ rating: number; ts: string; type: string }>(
      `select i.rating, extract(epoch from i."timestamp")::bigint::text as ts, i.interaction_type as type
         from user_movie_interactions i join users u on u.id = i.user_id join movies m on m.id = i.movie_id
        where u.username = 'ml_1' and m.tmdb_id = 862`,
    );
    expect(first).toEqual({ rating: 4, ts: "964982703", type: "rating" });

    const again = await importMovieLensRatings(pool, { dir, links, limit: 3000, batchSize: 1000 });
    expect(again.imported).toBe(0);
    expect(again.updated).toBe(0);
  });
});

describe("command", () => {
  it("parses its arguments", () => {
    expect(parseImportArgs(["all", "--limit", "10", "--data-dir", "/d"])).toEqual({ datasets: ["tmdb-5000", "movielens"], dataDir: "/d", limit: 10 });
    expect(parseImportArgs(["movielens"], "/from-env")).toMatchObject({ dataDir: "/from-env" });
    expect(parseImportArgs(["movielens", "--data-dir", "/flag"], "/from-env")).toMatchObject({ dataDir: "/flag" });
    // No built-in folder: without a flag or DATASETS_DIR the command says how to get the data.
    expect(() => parseImportArgs(["all"])).toThrow(/no dataset folder: pass --data-dir DIR or set DATASETS_DIR .*npm run datasets/);
    expect(() => parseImportArgs([])).toThrow(/usage/);
    expect(() => parseImportArgs(["imdb"])).toThrow(/unknown argument/);
  });

  it("runs from arguments, prints the report, and drops changed movies from the catalogue cache", async () => {
    const redisPrefix = `${inject("redisPrefix")}ds${Date.now().toString(36)}`;
    const redis = await openTestRedis(`${redisPrefix}:`);
    try {
      const [{ id }] = (await pool.query<{ id: string }>("update movies set overview = 'changed' where tmdb_id = 550 returning id")).rows as [{ id: string }];
      const lines: string[] = [];
      const config = { databaseUrl: t.db.url, redisUrl: inject("redisUrl"), redisPrefix, datasetsDir: DATA };
      const report = await runImportCommand(config, ["tmdb-5000", "--limit", "5"], (l) => lines.push(l));
      expect(report.files[0]).toMatchObject({ rows: 5, updated: 1, unchanged: 4 });
      expect(lines.join("\n")).toMatch(/tmdb_5000_movies\.csv: 5 rows — 0 imported, 1 updated, 4 unchanged, 0 skipped, 0 malformed — .* rows\/s\ntotal: 5 rows/);
      expect(await redis.get(catalogKeys.movieGeneration(id))).toBe("1");
      expect(await redis.get(catalogKeys.listsGeneration)).toBe("1");
    } finally {
      redis.disconnect();
    }
  });

  it("reports throughput in rows/s over every file", async () => {
    const r = await importDatasets(pool, { dataDir: DATA, datasets: ["tmdb-5000"], limit: 50 });
    expect(r.rows).toBe(50);
    expect(r.rowsPerSecond).toBeGreaterThan(0);
  });
});
