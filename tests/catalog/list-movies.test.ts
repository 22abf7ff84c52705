/** ListMovies through the real server: filters, orders, unrated rows last, cursors stable under inserts. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { MovieOrderBy, SortDirection, type ListMoviesRequest } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { MovieStatus } from "../../gen/movierec/catalog/v1/catalog_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ListMoviesRequestSchema } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { insertGenre, insertMovie, tag, type MovieSeed } from "./fixtures.ts";
import { startCatalogServer, type CatalogTestServer } from "./server.ts";

let s: CatalogTestServer;
const t = tag();
let genre = "";
let other = "";
const titles: Record<string, string> = {};

type Req = MessageInitShape<typeof ListMoviesRequestSchema>;

/** Every page of a list, following next_page_token. */
async function all(req: Req): Promise<string[]> {
  const out: string[] = [];
  let token = "";
  for (let i = 0; i < 100; i++) {
    const page = await s.client.listMovies({ ...req, pageToken: token });
    out.push(...page.movies.map((m) => titles[m.id] ?? `?${m.title}`));
    token = page.nextPageToken;
    if (token === "") break;
  }
  return out;
}

beforeAll(async () => {
  s = await startCatalogServer();
  const orm = s.deps.orm;
  genre = await insertGenre(orm, `Action ${t}`);
  other = await insertGenre(orm, `Comedy ${t}`);
  const add = async (key: string, seed: Omit<MovieSeed, "title">) => {
    const id = await insertMovie(orm, { genreIds: [genre], ...seed, title: `${key} ${t}` });
    titles[id] = key;
  };
  await add("a2001", { releaseDate: "2001-05-01", tmdbRating: 7.5, popularity: 30, voteCount: 500 });
  await add("b2005", { releaseDate: "2005-01-01", tmdbRating: 8.1, popularity: 90, voteCount: 50 });
  await add("c2009", { releaseDate: "2009-12-31", tmdbRating: 7.5, popularity: 60, voteCount: 800 });
  await add("d2010", { releaseDate: "2010-01-01", tmdbRating: 6.0, popularity: 70, language: "fr" });
  await add("e1999", { releaseDate: "1999-12-31", tmdbRating: 9.0, popularity: 10 });
  await add("f-unrated", { releaseDate: null, tmdbRating: null, popularity: 5 });
  await add("g-unrated", { releaseDate: "2003-03-03", tmdbRating: null, popularity: 1, status: "Post Production" });
  await add("h-adult", { releaseDate: "2004-04-04", tmdbRating: 5.0, popularity: 80, adult: true });
  await add("i-hidden", { releaseDate: "2004-04-04", tmdbRating: 5.0, popularity: 80, isActive: false });
  await add("j-both", { releaseDate: "2002-02-02", tmdbRating: 4.0, popularity: 20, genreIds: [genre, other] });
  await add("k-comedy", { releaseDate: "2002-02-02", tmdbRating: 4.0, popularity: 20, genreIds: [other] });
});
afterAll(async () => {
  await s?.close();
});

describe("ListMovies", () => {
  it("lists a genre by popularity by default, leaving out adult and hidden movies", async () => {
    expect(await all({ genreIds: [genre] })).toEqual(["b2005", "d2010", "c2009", "a2001", "j-both", "e1999", "f-unrated", "g-unrated"]);
    expect(await all({ genreIds: [genre], includeAdult: true })).toContain("h-adult");
  });

  it("lists the Action movies of the 2000s by rating, ties by newest id, across pages of 2", async () => {
    const req: Req = { genreIds: [genre], releaseYearMin: 2000, releaseYearMax: 2009, orderBy: MovieOrderBy.RATING, pageSize: 2 };
    expect(await all(req)).toEqual(["b2005", "c2009", "a2001", "j-both", "g-unrated"]);
  });

  it("puts movies without a rating or release date last in both directions", async () => {
    const asc = await all({ genreIds: [genre], orderBy: MovieOrderBy.RATING, direction: SortDirection.ASCENDING, pageSize: 3 });
    // Without a rating: by id in the same direction as the rest (f was inserted before g).
    expect(asc).toEqual(["j-both", "d2010", "a2001", "c2009", "b2005", "e1999", "f-unrated", "g-unrated"]);
    const byDate = await all({ genreIds: [genre], orderBy: MovieOrderBy.RELEASE_DATE, pageSize: 3 });
    expect(byDate).toEqual(["d2010", "c2009", "b2005", "g-unrated", "j-both", "a2001", "e1999", "f-unrated"]);
    const byDateAsc = await all({ genreIds: [genre], orderBy: MovieOrderBy.RELEASE_DATE, direction: SortDirection.ASCENDING, pageSize: 1 });
    expect(byDateAsc).toEqual(["e1999", "a2001", "j-both", "g-unrated", "b2005", "c2009", "d2010", "f-unrated"]);
  });

  it("orders by title ascending by default", async () => {
    expect(await all({ genreIds: [genre], orderBy: MovieOrderBy.TITLE, pageSize: 4 })).toEqual([
      "a2001", "b2005", "c2009", "d2010", "e1999", "f-unrated", "g-unrated", "j-both",
    ]);
    expect(await all({ genreIds: [genre], orderBy: MovieOrderBy.TITLE, direction: SortDirection.DESCENDING })).toEqual([
      "j-both", "g-unrated", "f-unrated", "e1999", "d2010", "c2009", "b2005", "a2001",
    ]);
  });

  it("combines minimum rating, vote count, language, status and several genres", async () => {
    expect(await all({ genreIds: [genre], minRating: 7.5, orderBy: MovieOrderBy.TITLE })).toEqual(["a2001", "b2005", "c2009", "e1999"]);
    expect(await all({ genreIds: [genre], minRating: 7.5, minVoteCount: 400, orderBy: MovieOrderBy.TITLE })).toEqual(["a2001", "c2009"]);
    expect(await all({ genreIds: [genre], originalLanguage: "fr" })).toEqual(["d2010"]);
    expect(await all({ genreIds: [genre], status: MovieStatus.POST_PRODUCTION })).toEqual(["g-unrated"]);
    expect(await all({ genreIds: [genre, other], orderBy: MovieOrderBy.TITLE })).toContain("k-comedy");
    expect(await all({ genreIds: [other], orderBy: MovieOrderBy.TITLE })).toEqual(["j-both", "k-comedy"]);
    // Ids beyond bigint break the API-wide id rule (src/server/message-rules.ts).
    expect(await s.client.listMovies({ genreIds: ["9999999999999999999"] }).then(() => undefined, (e: unknown) => ConnectError.from(e).code)).toBe(Code.InvalidArgument);
  });

  it("keeps pages stable when movies are inserted between two calls", async () => {
    const req: Req = { genreIds: [genre], orderBy: MovieOrderBy.POPULARITY, pageSize: 3 };
    const first = await s.client.listMovies(req);
    expect(first.movies.map((m) => titles[m.id])).toEqual(["b2005", "d2010", "c2009"]);
    // A movie that sorts before the cursor must not shift the next page.
    const id = await insertMovie(s.deps.orm, { title: `z-new ${t}`, genreIds: [genre], popularity: 1000 });
    titles[id] = "z-new";
    const second = await s.client.listMovies({ ...req, pageToken: first.nextPageToken });
    expect(second.movies.map((m) => titles[m.id])).toEqual(["a2001", "j-both", "e1999"]);
    await s.deps.orm.em.fork().execute("delete from movies where id = ?", [id]);
  });

  it("uses 20 by default, caps the page size at 100, and rejects foreign or forged tokens", async () => {
    expect((await s.client.listMovies({ pageSize: 0 })).movies.length).toBeLessThanOrEqual(20);
    expect((await s.client.listMovies({ pageSize: 1000, includeAdult: true })).movies.length).toBeLessThanOrEqual(100);
    const page = await s.client.listMovies({ genreIds: [genre], pageSize: 1 });
    const code = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => ConnectError.from(e).code);
    expect(await code(s.client.listMovies({ genreIds: [other], pageSize: 1, pageToken: page.nextPageToken }))).toBe(Code.InvalidArgument);
    expect(await code(s.client.listMovies({ pageToken: "not-a-token" }))).toBe(Code.InvalidArgument);
    expect(await code(s.client.listMovies({ pageToken: Buffer.from('{"k":1,"i":"1; drop table movies"}').toString("base64url") }))).toBe(Code.InvalidArgument);
    expect(await code(s.client.listMovies({ releaseYearMin: 2010, releaseYearMax: 2000 }))).toBe(Code.InvalidArgument);
  });
});
