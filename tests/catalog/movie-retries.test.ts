/**
 * What a retried staff write does (review of 2026-11-30, item 20), over the real server with a staff token:
 * CreateMovie with the same request_id returns the movie created the first time (one row, one audit row);
 * UpdateMovie sets the masked fields, so sending it twice leaves the same movie; DeleteMovie of a deleted movie answers
 * NOT_FOUND and changes nothing. UpdateMovie and DeleteMovie take no request_id.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { MovieStatus } from "../../gen/movierec/catalog/v1/catalog_pb.js";
import { createTestUser, type TestUser } from "../auth/test-users.ts";
import { insertGenre, tag, tmdbId } from "./fixtures.ts";
import { startCatalogServer, type CatalogTestServer } from "./server.ts";

let s: CatalogTestServer;
let staff: TestUser;
let drama = "";
const t = tag();
beforeAll(async () => {
  s = await startCatalogServer();
  drama = await insertGenre(s.deps.orm, `Retry drama ${t}`);
  staff = await createTestUser(s.deps, { staff: true, prefix: "rstaff" });
});
afterAll(async () => s?.close());

const movieMsg = (title: string) => ({
  tmdbId: tmdbId(), title, originalTitle: title, originalLanguage: "en", status: MovieStatus.RELEASED, tmdbRating: 6.5, genres: [{ id: drama }],
});
const sql = <T>(q: string, p: unknown[]) => s.deps.orm.em.fork().execute<T[]>(q, p);
const count = async (q: string, p: unknown[]) => Number((await sql<{ n: string }>(`select count(*)::text as n from ${q}`, p))[0]!.n);

describe("retried staff writes", () => {
  it("CreateMovie with one request_id twice: the same movie, one row, one audit row", async () => {
    const msg = movieMsg(`Retry create ${t}`);
    const first = await s.client.createMovie({ movie: msg, requestId: `create-${t}` }, { headers: staff.headers });
    const again = await s.client.createMovie({ movie: msg, requestId: `create-${t}` }, { headers: staff.headers });
    expect(again.movie!.id).toBe(first.movie!.id);
    expect(await count("movies where tmdb_id = ?", [msg.tmdbId])).toBe(1);
    expect(await count("audit_log where action = 'movie.create' and record_id = ?", [first.movie!.id])).toBe(1);
  });

  it("UpdateMovie sent twice leaves the same movie as sent once", async () => {
    const created = await s.client.createMovie({ movie: movieMsg(`Retry update ${t}`) }, { headers: staff.headers });
    const id = created.movie!.id;
    const update = {
      movie: { id, title: `Retry update (2nd cut) ${t}`, tmdbRating: 7.5, status: MovieStatus.POST_PRODUCTION },
      updateMask: create(FieldMaskSchema, { paths: ["title", "tmdb_rating", "status"] }),
    };
    const once = await s.client.updateMovie(update, { headers: staff.headers });
    const twice = await s.client.updateMovie(update, { headers: staff.headers });
    const strip = (m: typeof once.movie) => ({ ...m, updatedAt: undefined, $typeName: undefined });
    expect(strip(twice.movie)).toEqual(strip(once.movie));
    expect(twice.movie).toMatchObject({ title: `Retry update (2nd cut) ${t}`, tmdbRating: 7.5, status: MovieStatus.POST_PRODUCTION });
    const read = await s.client.getMovie({ lookup: { case: "id", value: id } });
    expect(strip(read.movie)).toEqual(strip(twice.movie));
  });

  it("DeleteMovie sent twice: the second answers NOT_FOUND and deletes nothing else", async () => {
    const keep = await s.client.createMovie({ movie: movieMsg(`Retry keep ${t}`) }, { headers: staff.headers });
    const gone = await s.client.createMovie({ movie: movieMsg(`Retry delete ${t}`) }, { headers: staff.headers });
    await s.client.deleteMovie({ movieId: gone.movie!.id }, { headers: staff.headers });
    const second = await s.client.deleteMovie({ movieId: gone.movie!.id }, { headers: staff.headers }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e).code,
    );
    expect(second).toBe(Code.NotFound);
    expect(await count("movies where id = ?", [gone.movie!.id])).toBe(0);
    expect(await count("movies where id = ?", [keep.movie!.id])).toBe(1);
    expect(await count("audit_log where action = 'movie.delete' and record_id = ?", [gone.movie!.id])).toBe(1);
  });
});
