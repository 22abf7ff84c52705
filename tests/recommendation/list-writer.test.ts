// The batch write path of scoring (COPY into a staging table, then one swap): a failed batch keeps the old lists,
// rows a click or feedback points at survive, and a reader only ever sees a whole list.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { MikroORM } from "@mikro-orm/postgresql";
import type pg from "pg";
import { openOrm } from "../../src/platform/orm.ts";
import { inPgTransaction, replaceLists, type ListRows } from "../../src/modules/recommendation/list-writer.ts";
import { seedMovie, seedUser } from "./fixtures.ts";

let orm: MikroORM;
let pool: pg.Pool;
beforeAll(async () => {
  orm = await openOrm(inject("databaseUrl"), { poolMax: 4 });
  pool = await orm.em.getConnection().getNativeClient();
});
afterAll(async () => {
  await orm.close(true);
});

const list = (user: string, movies: string[], algorithm = "hybrid"): ListRows => ({
  user: movies.map(() => user),
  movie: movies,
  score: movies.map((_, k) => 1 - k / 10),
  algorithm: movies.map(() => algorithm),
});
const merge = (...parts: ListRows[]): ListRows => ({
  user: parts.flatMap((p) => p.user),
  movie: parts.flatMap((p) => p.movie),
  score: parts.flatMap((p) => p.score),
  algorithm: parts.flatMap((p) => p.algorithm),
});
const rowsOf = (user: string) =>
  orm.em.fork().execute<{ movie_id: string; score: number; clicked: boolean; ms: number }[]>(
    "select movie_id::text as movie_id, score, clicked, round(extract(epoch from generated_at) * 1000)::float8 as ms from user_recommendations where user_id = ?::bigint order by score desc",
    [user],
  );

describe("list writer", () => {
  it("replaces a batch of users' lists, each user keeping only their own new rows", async () => {
    const [a, b] = [await seedUser(orm), await seedUser(orm)];
    const m = await Promise.all([1, 2, 3, 4].map(() => seedMovie(orm)));
    const first = new Date(Date.now() - 60_000);
    await inPgTransaction(pool, (c) => replaceLists(c, [a, b], merge(list(a, [m[0], m[1]]), list(b, [m[2]])), first));
    const second = new Date();
    await inPgTransaction(pool, (c) => replaceLists(c, [a, b], merge(list(a, [m[2], m[3]]), list(b, [m[0]])), second));
    expect((await rowsOf(a)).map((r) => r.movie_id)).toEqual([m[2], m[3]]);
    expect((await rowsOf(b)).map((r) => r.movie_id)).toEqual([m[0]]);
    expect((await rowsOf(a)).every((r) => r.ms === second.getTime())).toBe(true);
  });

  it("keeps the old list whole when the batch fails midway (the crash case)", async () => {
    const user = await seedUser(orm);
    const m = await Promise.all([1, 2, 3].map(() => seedMovie(orm)));
    await inPgTransaction(pool, (c) => replaceLists(c, [user], list(user, [m[0], m[1]]), new Date()));
    // A movie id that does not exist fails the insert after the old rows were deleted in the same transaction.
    const failing = inPgTransaction(pool, (c) => replaceLists(c, [user], list(user, [m[2], "999999999999"]), new Date()));
    await expect(failing).rejects.toThrow(/foreign key/);
    expect((await rowsOf(user)).map((r) => r.movie_id)).toEqual([m[0], m[1]]);
  });

  it("never deletes a clicked row, and refreshes it when the movie is recommended again", async () => {
    const user = await seedUser(orm);
    const m = await Promise.all([1, 2, 3].map(() => seedMovie(orm)));
    await inPgTransaction(pool, (c) => replaceLists(c, [user], list(user, [m[0], m[1]]), new Date(Date.now() - 60_000)));
    await orm.em.fork().execute("update user_recommendations set clicked = true, clicked_at = now() where user_id = ?::bigint and movie_id in (?::bigint, ?::bigint)", [user, m[0], m[1]]);
    const now = new Date();
    await inPgTransaction(pool, (c) => replaceLists(c, [user], list(user, [m[1], m[2]]), now));
    const rows = await rowsOf(user);
    expect(rows.map((r) => r.movie_id).sort()).toEqual([...m].sort());
    const byMovie = new Map(rows.map((r) => [r.movie_id, r]));
    expect(byMovie.get(m[0])!.ms).toBeLessThan(now.getTime()); // history, no longer served
    expect(byMovie.get(m[1])!.ms).toBe(now.getTime()); // recommended again: current
    expect(byMovie.get(m[1])!.clicked).toBe(true);
    expect(byMovie.get(m[2])!.ms).toBe(now.getTime());
  });

  it("lets a concurrent reader see the old list or the new one, never a mix", async () => {
    const user = await seedUser(orm);
    const oldMovies = await Promise.all([1, 2, 3, 4, 5].map(() => seedMovie(orm)));
    const newMovies = await Promise.all([1, 2, 3, 4, 5].map(() => seedMovie(orm)));
    await inPgTransaction(pool, (c) => replaceLists(c, [user], list(user, oldMovies), new Date()));
    const seen: string[][] = [];
    let writing = true;
    const reader = (async () => {
      while (writing) seen.push((await rowsOf(user)).map((r) => r.movie_id));
    })();
    for (let k = 0; k < 10; k++) {
      await inPgTransaction(pool, (c) => replaceLists(c, [user], list(user, k % 2 === 0 ? newMovies : oldMovies), new Date()));
    }
    writing = false;
    await reader;
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect([oldMovies.join(), newMovies.join()]).toContain(s.join());
  });
});
