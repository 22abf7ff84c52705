/**
 * Staff writes: validation and storage called directly, then CreateMovie/UpdateMovie/DeleteMovie
 * through the real server with a staff token (and refused for everyone else).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { MovieStatus } from "../../gen/movierec/catalog/v1/catalog_pb.js";
import { createCatalogService } from "../../src/modules/catalog/index.ts";
import type { MovieFields } from "../../src/modules/catalog/movie-validation.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../../src/platform/errors.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";
import { addCast, insertGenre, insertPerson, tag, tmdbId } from "./fixtures.ts";
import { startCatalogServer, type CatalogTestServer } from "./server.ts";

let s: CatalogTestServer;
let staff: TestUser;
let member: TestUser;
let catalog: ReturnType<typeof createCatalogService>;
const t = tag();
let drama = "";
let crime = "";

const fields = (over: Partial<MovieFields> = {}): MovieFields => ({
  tmdbId: tmdbId(), imdbId: null, title: `Heat ${t}`, originalTitle: `Heat ${t}`, overview: "A heist.", tagline: "", releaseDate: "1995-12-15",
  runtime: 170, budget: 60_000_000, revenue: 187_000_000, status: "Released", tmdbRating: 7.9, tmdbVoteCount: 6000, imdbRating: 8.3,
  posterPath: "/heat.jpg", backdropPath: null, adult: false, video: false, originalLanguage: "en", genreIds: [drama], ...over,
});

beforeAll(async () => {
  s = await startCatalogServer();
  catalog = createCatalogService({ orm: s.deps.orm, redis: s.deps.redis, log: createLogger({ level: "silent" }) });
  drama = await insertGenre(s.deps.orm, `Drama ${t}`);
  crime = await insertGenre(s.deps.orm, `Crime ${t}`);
  staff = await createTestUser(s.deps, { staff: true, prefix: "cstaff" });
  member = await createTestUser(s.deps, { prefix: "cmember" });
});
afterAll(async () => {
  await s?.close();
});

describe("validation and storage (called directly)", () => {
  it("creates a movie with its genres and reads it back", async () => {
    const movie = await catalog.createMovie(fields({ genreIds: [crime, drama] }));
    expect(movie).toMatchObject({ title: `Heat ${t}`, runtime: 170, budget: 60_000_000, tmdbRating: 7.9, imdbRating: 8.3, status: "Released" });
    expect(movie.genres.map((g) => g.id).sort()).toEqual([crime, drama].sort());
  });

  it.each([
    ["title", { title: "   " }],
    ["title", { title: "x".repeat(201) }],
    ["original_title", { originalTitle: "" }],
    ["tmdb_rating", { tmdbRating: 7.55 }],
    ["tmdb_rating", { tmdbRating: 10.5 }],
    ["imdb_rating", { imdbRating: -1 }],
    ["budget", { budget: -1 }],
    ["revenue", { revenue: 1.5 }],
    ["runtime", { runtime: -5 }],
    ["release_date", { releaseDate: "2023-02-30" }],
    ["status", { status: "Lost" as MovieFields["status"] }],
    ["imdb_id", { imdbId: "nm0000001" }],
    ["original_language", { originalLanguage: "English" }],
    ["genres", { genreIds: ["9123456789012345678"] }],
  ])("rejects a bad %s", async (field, over) => {
    const err = await catalog.createMovie(fields(over)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).field).toBe(field);
  });

  it("answers CONFLICT for a taken TMDb or IMDb id, unless it is the retry of the same request", async () => {
    const imdb = `tt${String(tmdbId()).padStart(9, "0")}`;
    const first = fields({ imdbId: imdb });
    const movie = await catalog.createMovie(first, `req-${t}`);
    expect(await catalog.createMovie(first, `req-${t}`)).toMatchObject({ id: movie.id });
    await expect(catalog.createMovie(first)).rejects.toBeInstanceOf(ConflictError);
    await expect(catalog.createMovie(first, `other-${t}`)).rejects.toBeInstanceOf(ConflictError);
    await expect(catalog.createMovie(fields({ imdbId: imdb }))).rejects.toBeInstanceOf(ConflictError);
  });

  it("updates only the masked fields, validates the result, and replaces genres", async () => {
    const movie = await catalog.createMovie(fields());
    const after = await catalog.updateMovie(movie.id, ["title", "genres"], fields({ title: `Heat (1995) ${t}`, overview: "ignored", genreIds: [crime] }));
    expect(after.title).toBe(`Heat (1995) ${t}`);
    expect(after.overview).toBe("A heist.");
    expect(after.genres.map((g) => g.id)).toEqual([crime]);
    expect(Date.parse(after.updatedAt)).toBeGreaterThanOrEqual(Date.parse(movie.updatedAt));
    await expect(catalog.updateMovie(movie.id, ["tmdb_rating"], fields({ tmdbRating: 11 }))).rejects.toBeInstanceOf(InvalidInputError);
    await expect(catalog.updateMovie(movie.id, ["view_count"], fields())).rejects.toBeInstanceOf(InvalidInputError);
    await expect(catalog.updateMovie(movie.id, [], fields())).rejects.toBeInstanceOf(InvalidInputError);
    await expect(catalog.updateMovie("9123456789012345678", ["title"], fields())).rejects.toBeInstanceOf(NotFoundError);
    // Clearing optional values is allowed.
    const cleared = await catalog.updateMovie(movie.id, ["runtime", "tmdb_rating", "release_date"], fields({ runtime: null, tmdbRating: null, releaseDate: null }));
    expect(cleared).toMatchObject({ runtime: null, tmdbRating: null, releaseDate: null });
  });

  it("deletes a movie with its credits and genre links (cascade), and NOT_FOUND after", async () => {
    const movie = await catalog.createMovie(fields());
    const actor = await insertPerson(s.deps.orm, `Al Pacino ${t}`);
    await addCast(s.deps.orm, movie.id, actor, "Vincent Hanna", 0);
    await catalog.deleteMovie(movie.id);
    const left = await s.deps.orm.em.fork().execute<{ n: string }[]>(
      "select (select count(*) from movie_cast where movie_id = ?) + (select count(*) from movie_genres where movie_id = ?) as n",
      [movie.id, movie.id],
    );
    expect(Number(left[0]!.n)).toBe(0);
    // The person stays: only the credit goes.
    expect((await catalog.getPerson({ by: "id", id: actor })).person.name).toBe(`Al Pacino ${t}`);
    await expect(catalog.deleteMovie(movie.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("staff writes over RPC", () => {
  const movieMsg = () => ({
    tmdbId: tmdbId(), title: `Ronin ${t}`, originalTitle: `Ronin ${t}`, originalLanguage: "en", status: MovieStatus.RELEASED,
    tmdbRating: 7.1, budget: 55_000_000n, genres: [{ id: drama }],
  });
  const code = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => ConnectError.from(e).code);

  it("creates, updates and deletes with a staff token, and GetMovie follows each change at once", async () => {
    const created = await s.client.createMovie({ movie: movieMsg(), requestId: `rpc-${t}` }, { headers: staff.headers });
    const id = created.movie!.id;
    expect(created.movie?.budget).toBe(55_000_000n);
    expect((await s.client.getMovie({ lookup: { case: "id", value: id } })).movie?.title).toBe(`Ronin ${t}`);
    const updated = await s.client.updateMovie(
      { movie: { id, title: `Ronin (1998) ${t}`, status: MovieStatus.POST_PRODUCTION }, updateMask: create(FieldMaskSchema, { paths: ["title", "status"] }) },
      { headers: staff.headers },
    );
    expect(updated.movie?.status).toBe(MovieStatus.POST_PRODUCTION);
    // The cached copy was invalidated by the write.
    expect((await s.client.getMovie({ lookup: { case: "id", value: id } })).movie?.title).toBe(`Ronin (1998) ${t}`);
    await s.client.deleteMovie({ movieId: id }, { headers: staff.headers });
    expect(await code(s.client.getMovie({ lookup: { case: "id", value: id } }))).toBe(Code.NotFound);
  });

  it("refuses anonymous callers and non-staff users", async () => {
    expect(await code(s.client.createMovie({ movie: movieMsg() }))).toBe(Code.Unauthenticated);
    expect(await code(s.client.createMovie({ movie: movieMsg() }, { headers: member.headers }))).toBe(Code.PermissionDenied);
    expect(await code(s.client.deleteMovie({ movieId: "1" }, { headers: member.headers }))).toBe(Code.PermissionDenied);
  });

  it("maps validation to INVALID_ARGUMENT and duplicates to ALREADY_EXISTS", async () => {
    expect(await code(s.client.createMovie({ movie: { ...movieMsg(), tmdbRating: 7.25 } }, { headers: staff.headers }))).toBe(Code.InvalidArgument);
    expect(await code(s.client.createMovie({ movie: { ...movieMsg(), title: "" } }, { headers: staff.headers }))).toBe(Code.InvalidArgument);
    const m = movieMsg();
    await s.client.createMovie({ movie: m }, { headers: staff.headers });
    expect(await code(s.client.createMovie({ movie: m }, { headers: staff.headers }))).toBe(Code.AlreadyExists);
    expect(
      await code(s.client.updateMovie({ movie: { id: "9123456789012345678", title: "x" }, updateMask: create(FieldMaskSchema, { paths: ["title"] }) }, { headers: staff.headers })),
    ).toBe(Code.NotFound);
  });
});
