/** GetMovie, BatchGetMovies, ListGenres, GetPerson and ListPersonCredits through the real server. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError } from "@connectrpc/connect";
import { CatalogService, CreditKind } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { CrewDepartment, MovieStatus } from "../../gen/movierec/catalog/v1/catalog_pb.js";
import { grpcClient, grpcUnary } from "../support/grpc-client.ts";
import { addCast, addCompany, addCrew, insertGenre, insertMovie, insertPerson, invalidateCatalogCache, tag, tmdbId } from "./fixtures.ts";
import { startCatalogServer, type CatalogTestServer } from "./server.ts";

let s: CatalogTestServer;
const t = tag();
const ids: Record<string, string> = {};
const tmdb = tmdbId();
const imdb = `tt${String(tmdbId()).padStart(9, "0")}`;

beforeAll(async () => {
  s = await startCatalogServer();
  const orm = s.deps.orm;
  ids.drama = await insertGenre(orm, `Drama ${t}`);
  ids.action = await insertGenre(orm, `Action ${t}`);
  ids.movie = await insertMovie(orm, { title: `Fight Club ${t}`, tmdbId: tmdb, imdbId: imdb, genreIds: [ids.drama, ids.action], releaseDate: "1999-10-15", popularity: 50 });
  ids.other = await insertMovie(orm, { title: `Se7en ${t}`, releaseDate: "1995-09-22", popularity: 40, tmdbRating: null });
  ids.pitt = await insertPerson(orm, `Brad Pitt ${t}`, { biography: "An actor.", popularity: 30 });
  ids.norton = await insertPerson(orm, `Edward Norton ${t}`);
  ids.fincher = await insertPerson(orm, `David Fincher ${t}`, { department: "Directing" });
  ids.writer = await insertPerson(orm, `Jim Uhls ${t}`, { department: "Writing" });
  ids.producer = await insertPerson(orm, `Art Linson ${t}`, { department: "Production" });
  await addCast(orm, ids.movie, ids.pitt, "Tyler Durden", 1);
  await addCast(orm, ids.movie, ids.norton, "The Narrator", 0);
  await addCrew(orm, ids.movie, ids.producer, "Producer", "Production");
  await addCrew(orm, ids.movie, ids.writer, "Screenplay", "Writing");
  await addCrew(orm, ids.movie, ids.fincher, "Director", "Directing");
  await addCompany(orm, ids.movie, `Fox 2000 ${t}`);
  await addCast(orm, ids.other, ids.pitt, "Detective Mills", 0);
  await addCrew(orm, ids.other, ids.fincher, "Director", "Directing");
  await invalidateCatalogCache(s.deps.redis);
});
afterAll(async () => {
  await s?.close();
});

const codeOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => ConnectError.from(e).code);

describe("GetMovie", () => {
  it("returns the movie with genres by name, cast in billing order, directors and writers first, and companies", async () => {
    const res = await s.client.getMovie({ lookup: { case: "id", value: ids.movie } });
    expect(res.movie?.title).toBe(`Fight Club ${t}`);
    expect(res.movie?.status).toBe(MovieStatus.RELEASED);
    expect(res.movie?.releaseDate).toBe("1999-10-15");
    expect(res.movie?.tmdbRating).toBe(7);
    expect(res.movie?.genres.map((g) => g.name)).toEqual([`Action ${t}`, `Drama ${t}`]);
    expect(res.cast.map((c) => [c.character, c.order])).toEqual([["The Narrator", 0], ["Tyler Durden", 1]]);
    expect(res.crew.map((c) => c.job)).toEqual(["Director", "Screenplay", "Producer"]);
    expect(res.crew[0]?.department).toBe(CrewDepartment.DIRECTING);
    expect(res.companies.map((c) => c.name)).toEqual([`Fox 2000 ${t}`]);
    expect(res.movie?.createdAt).toBeDefined();
  });

  it("finds the same movie by TMDb id and by IMDb id", async () => {
    for (const lookup of [{ case: "tmdbId", value: tmdb }, { case: "imdbId", value: imdb }] as const) {
      // twice: the second goes through the remembered alias
      for (let i = 0; i < 2; i++) expect((await s.client.getMovie({ lookup })).movie?.id).toBe(ids.movie);
    }
  });

  it("caps the cast with max_cast", async () => {
    const res = await s.client.getMovie({ lookup: { case: "id", value: ids.movie }, maxCast: 1 });
    expect(res.cast.map((c) => c.character)).toEqual(["The Narrator"]);
  });

  it("answers NOT_FOUND for unknown ids of every kind, including ids beyond bigint", async () => {
    expect(await codeOf(s.client.getMovie({ lookup: { case: "id", value: "9123456789012345678" } }))).toBe(Code.NotFound);
    // Beyond bigint breaks the API-wide id rule (src/server/message-rules.ts): INVALID_ARGUMENT, as on every method.
    expect(await codeOf(s.client.getMovie({ lookup: { case: "id", value: "9999999999999999999" } }))).toBe(Code.InvalidArgument);
    expect(await codeOf(s.client.getMovie({ lookup: { case: "tmdbId", value: 2_147_483_000 } }))).toBe(Code.NotFound);
    expect(await codeOf(s.client.getMovie({ lookup: { case: "imdbId", value: "tt99999999999" } }))).toBe(Code.NotFound);
  });

  it("leaves an unset rating unset on the wire", async () => {
    const res = await s.client.getMovie({ lookup: { case: "id", value: ids.other } });
    expect(res.movie?.tmdbRating).toBeUndefined();
  });

  it("answers over grpc-js too", async () => {
    const c = grpcClient(s.ts.grpcAddress);
    try {
      const res = await grpcUnary(c, CatalogService.method.getMovie, { lookup: { case: "id", value: ids.movie } });
      expect(res.movie?.title).toBe(`Fight Club ${t}`);
      await expect(grpcUnary(c, CatalogService.method.getMovie, { lookup: { case: "id", value: "9123456789012345670" } })).rejects.toMatchObject({
        code: grpc.status.NOT_FOUND,
      });
    } finally {
      c.close();
    }
  });
});

describe("BatchGetMovies", () => {
  it("keeps the request order and names the missing ids", async () => {
    const res = await s.client.batchGetMovies({ ids: [ids.other, "9123456789012345678", ids.movie] });
    expect(res.movies.map((m) => m.id)).toEqual([ids.other, ids.movie]);
    expect(res.missingIds).toEqual(["9123456789012345678"]);
    expect(res.movies[1]?.genres).toHaveLength(2);
  });
});

describe("ListGenres", () => {
  it("lists genres by name, all on one page by default, and pages when asked", async () => {
    const all = await s.client.listGenres({});
    const names = all.genres.map((g) => g.name);
    // Other tests add genres too; ours must be there, in name order.
    expect(names.filter((n) => n.endsWith(t))).toEqual([`Action ${t}`, `Drama ${t}`]);
    expect(all.nextPageToken).toBe("");
    const seen: string[] = [];
    let token = "";
    do {
      const page = await s.client.listGenres({ pageSize: 1, pageToken: token });
      seen.push(...page.genres.map((g) => g.id));
      token = page.nextPageToken;
    } while (token !== "" && seen.length < 10_000);
    expect(seen).toEqual(all.genres.map((g) => g.id));
  });
});

describe("GetPerson and ListPersonCredits", () => {
  it("returns a person with biography and known-for movies, most popular first", async () => {
    const res = await s.client.getPerson({ lookup: { case: "id", value: ids.pitt } });
    expect(res.person?.name).toBe(`Brad Pitt ${t}`);
    expect(res.person?.biography).toBe("An actor.");
    expect(res.person?.knownForDepartment).toBe(CrewDepartment.ACTING);
    expect(res.knownFor.map((m) => m.id)).toEqual([ids.movie, ids.other]);
    expect(await codeOf(s.client.getPerson({ lookup: { case: "id", value: "9123456789012345678" } }))).toBe(Code.NotFound);
  });

  it("lists cast and crew credits newest release first, filtered by kind, paged", async () => {
    const all = await s.client.listPersonCredits({ personId: ids.fincher });
    expect(all.credits.map((c) => [c.movie?.id, c.role.case])).toEqual([[ids.movie, "crew"], [ids.other, "crew"]]);
    expect(all.credits[0]?.role.case === "crew" && all.credits[0].role.value.job).toBe("Director");
    const cast = await s.client.listPersonCredits({ personId: ids.pitt, kind: CreditKind.CAST });
    expect(cast.credits.map((c) => (c.role.case === "cast" ? c.role.value.character : ""))).toEqual(["Tyler Durden", "Detective Mills"]);
    expect((await s.client.listPersonCredits({ personId: ids.pitt, kind: CreditKind.CREW })).credits).toEqual([]);
    const first = await s.client.listPersonCredits({ personId: ids.pitt, pageSize: 1 });
    expect(first.credits).toHaveLength(1);
    const second = await s.client.listPersonCredits({ personId: ids.pitt, pageSize: 1, pageToken: first.nextPageToken });
    expect(second.credits[0]?.movie?.id).toBe(ids.other);
    expect(second.nextPageToken).toBe("");
    expect(await codeOf(s.client.listPersonCredits({ personId: ids.norton, pageToken: first.nextPageToken }))).toBe(Code.InvalidArgument);
  });
});
