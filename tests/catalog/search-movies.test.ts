/** SearchMovies through the real server: full text, people, typos, ranking, hostile input, paging. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { searchMovies } from "../../src/modules/catalog/movie-search.ts";
import { InvalidInputError } from "../../src/platform/errors.ts";
import { addCast, addCrew, insertMovie, insertPerson, tag } from "./fixtures.ts";
import { startCatalogServer, type CatalogTestServer } from "./server.ts";

let s: CatalogTestServer;
// Made-up words keep these movies apart from whatever else the shared database holds.
const t = tag();
const word = `qz${t}`;
const ids: Record<string, string> = {};

beforeAll(async () => {
  s = await startCatalogServer();
  const orm = s.deps.orm;
  ids.avatar = await insertMovie(orm, { title: `Avatarqz${t}`, overview: "A paraplegic marine on a distant moon.", popularity: 90 });
  ids.sequel = await insertMovie(orm, { title: `Avatarqz${t} The Way of Water`, overview: "Jake Sully lives with his family.", popularity: 80 });
  ids.club = await insertMovie(orm, {
    title: `Fight Club ${word}`,
    tagline: "Mischief. Mayhem. Soap.",
    overview: "An insomniac office worker crosses paths with a soap salesman.",
    popularity: 60,
  });
  ids.foreign = await insertMovie(orm, { title: `The Hunt ${word}`, originalTitle: `Jagten ${word}`, overview: "A teacher's life is shattered.", popularity: 20 });
  ids.overview = await insertMovie(orm, { title: `Quiet Days ${t}`, overview: `A story about ${word} and the sea.`, popularity: 99 });
  ids.adult = await insertMovie(orm, { title: `Night ${word}`, adult: true, popularity: 5 });
  const fincher = await insertPerson(orm, `Davidqz Fincherqz${t}`, { department: "Directing", popularity: 10 });
  const pitt = await insertPerson(orm, `Bradqz Pittqz${t}`, { popularity: 20 });
  await addCrew(orm, ids.club, fincher, "Director", "Directing");
  await addCast(orm, ids.club, pitt, "Tyler Durden", 0);
});
afterAll(async () => {
  await s?.close();
});

const titlesOf = async (query: string, extra: { includeAdult?: boolean; pageSize?: number } = {}) =>
  (await s.client.searchMovies({ query, ...extra })).movies.map((m) => m.id);

describe("SearchMovies", () => {
  it("finds a title, best match first (the exact title before its sequel)", async () => {
    const found = await titlesOf(`avatarqz${t}`);
    expect(found.slice(0, 2)).toEqual([ids.avatar, ids.sequel]);
  });

  it("tolerates a typo in the title", async () => {
    // "avtarqz…" is one letter short of "avatarqz…": only trigram similarity can find it.
    expect((await titlesOf(`avtarqz${t}`))[0]).toBe(ids.avatar);
    // A typo in one word of a longer title still finds it (word similarity).
    expect(await titlesOf(`avtarqz${t} way of water`)).toContain(ids.sequel);
  });

  it("matches words of the tagline, overview and original title", async () => {
    expect(await titlesOf(`mayhem soap ${word}`)).toContain(ids.club);
    expect(await titlesOf(word)).toEqual(expect.arrayContaining([ids.club, ids.foreign, ids.overview]));
    expect(await titlesOf(`jagten ${word}`)).toContain(ids.foreign);
    const ranked = await titlesOf(word);
    // A title match outranks an overview match even against a more popular movie.
    expect(ranked.indexOf(ids.club)).toBeLessThan(ranked.indexOf(ids.overview));
  });

  it("finds movies through the people in them", async () => {
    // First, not alone: with few exact matches, titles that merely look alike come after (typo matching).
    expect((await titlesOf(`Fincherqz${t}`))[0]).toBe(ids.club);
    expect((await titlesOf(`Bradqz Pittqz${t}`))[0]).toBe(ids.club);
  });

  it("leaves adult movies out unless asked", async () => {
    expect(await titlesOf(`night ${word}`)).not.toContain(ids.adult);
    expect(await titlesOf(`night ${word}`, { includeAdult: true })).toContain(ids.adult);
  });

  it("pages through results without repeats", async () => {
    const all = await titlesOf(word);
    const paged: string[] = [];
    let token = "";
    for (let i = 0; i < 20; i++) {
      const page = await s.client.searchMovies({ query: word, pageSize: 1, pageToken: token });
      paged.push(...page.movies.map((m) => m.id));
      token = page.nextPageToken;
      if (!token) break;
    }
    expect(paged).toEqual(all);
    const err = await s.client.searchMovies({ query: "other", pageToken: token || "eyJrIjoxLCJpIjoiMSIsImYiOiJ4In0" }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
  });

  it("answers any string without an error", async () => {
    const hostile = [
      `"unbalanced quote`, "a & | ! ( ) :* <-> b", "'); drop table movies; --", "\\\\ backslashes \\", "%_ like wildcards",
      "🎬🍿 emoji", "?", "?? ?| ?& $1 :name", "-", "!!!", "or or or", "é à ü ß", "中文 電影",
    ];
    for (const q of hostile) {
      const res = await s.client.searchMovies({ query: q });
      expect(Array.isArray(res.movies), q).toBe(true);
    }
    // NUL cannot be stored or searched: INVALID_ARGUMENT, as in every string field (src/server/message-rules.ts).
    const nul = await s.client.searchMovies({ query: "\u0000nul\u0000" }).catch((e: unknown) => ConnectError.from(e));
    expect((nul as ConnectError).code).toBe(Code.InvalidArgument);
    // The whole 500 characters the contract allows, of mixed junk.
    const long = Array.from({ length: 500 }, (_, i) => "a'\"&|!():*<->\\% 🎬"[i % 17]).join("").slice(0, 500);
    expect(Array.isArray((await s.client.searchMovies({ query: long })).movies)).toBe(true);
  });

  it("refuses a query of only whitespace with INVALID_ARGUMENT, like an empty one", async () => {
    for (const query of ["", "   ", "\t\n", " \u0000 "]) {
      const err = await s.client.searchMovies({ query }).catch((e: unknown) => ConnectError.from(e));
      expect((err as ConnectError).code, JSON.stringify(query)).toBe(Code.InvalidArgument);
    }
  });

  it("refuses an over-long query with INVALID_ARGUMENT (10 kB), at the edge and in the domain", async () => {
    const huge = "x".repeat(10_000);
    const err = await s.client.searchMovies({ query: huge }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    await expect(searchMovies(s.deps.orm.em.fork(), { query: huge })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
