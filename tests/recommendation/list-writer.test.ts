// The batch write path of scoring (one list row per user and algorithm, COPY then one delete): a failed batch keeps
// the old lists, each (user, algorithm) keeps the list it replaced and nothing older, the rows clicks and feedback
// refer to are left alone, and a reader only ever sees a whole list.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { MikroORM } from "@mikro-orm/postgresql";
import type pg from "pg";
import { openOrm } from "../../src/platform/orm.ts";
import { inPgTransaction, replaceLists, type ScoredList } from "../../src/modules/recommendation/list-writer.ts";
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

const list = (userId: string, movieIds: string[], algorithm = "hybrid", scores = movieIds.map((_, k) => 1 - k / 10)): ScoredList => ({ userId, algorithm, movieIds, scores });
/** Every list of the user, newest first. */
const listsOf = (user: string) =>
  orm.em.fork().execute<{ algorithm: string; movie_ids: string[]; scores: number[]; ms: number }[]>(
    "select algorithm, movie_ids::text[] as movie_ids, scores, round(extract(epoch from generated_at) * 1000)::float8 as ms from user_recommendation_lists where user_id = ?::bigint order by id desc",
    [user],
  );
/** What serving reads: the newest list of the algorithm. */
const currentOf = async (user: string, algorithm = "hybrid") => (await listsOf(user)).find((l) => l.algorithm === algorithm);

describe("list writer", () => {
  it("replaces a batch of users' lists: the new one is current, the replaced one kept, nothing older", async () => {
    const [a, b] = [await seedUser(orm), await seedUser(orm)];
    const m = await Promise.all([1, 2, 3, 4].map(() => seedMovie(orm)));
    const first = new Date(Date.now() - 120_000);
    await inPgTransaction(pool, (c) => replaceLists(c, [a, b], [list(a, [m[0], m[1]]), list(a, [m[3]], "trending"), list(b, [m[2]])], first));
    const second = new Date(Date.now() - 60_000);
    await inPgTransaction(pool, (c) => replaceLists(c, [a, b], [list(a, [m[2], m[3]]), list(a, [m[0]], "trending"), list(b, [m[0]])], second));
    const third = new Date();
    await inPgTransaction(pool, (c) => replaceLists(c, [a, b], [list(a, [m[1]], "hybrid", [0.25]), list(a, [], "trending"), list(b, [m[3]])], third));
    expect(await currentOf(a)).toEqual({ algorithm: "hybrid", movie_ids: [m[1]], scores: [0.25], ms: third.getTime() });
    expect((await currentOf(a, "trending"))!.movie_ids).toEqual([]); // an empty list hides the older one
    expect((await currentOf(b))!.movie_ids).toEqual([m[3]]);
    // Two per (user, algorithm): the third write dropped the first.
    expect((await listsOf(a)).map((l) => [l.algorithm, l.ms])).toEqual([
      ["trending", third.getTime()],
      ["hybrid", third.getTime()],
      ["trending", second.getTime()],
      ["hybrid", second.getTime()],
    ]);
    expect((await listsOf(b)).map((l) => l.movie_ids)).toEqual([[m[3]], [m[0]]]);
  });

  it("keeps the old list whole when the batch fails midway (the crash case)", async () => {
    const user = await seedUser(orm);
    const m = await Promise.all([1, 2, 3].map(() => seedMovie(orm)));
    await inPgTransaction(pool, (c) => replaceLists(c, [user], [list(user, [m[0], m[1]])], new Date()));
    // A score out of [0, 1] fails the COPY (list_scores_check): nothing of the batch stays.
    const failing = inPgTransaction(pool, (c) => replaceLists(c, [user], [list(user, [m[2]], "trending"), list(user, [m[2], m[0]], "hybrid", [1, 2])], new Date()));
    await expect(failing).rejects.toThrow(/list_scores_check/);
    expect((await listsOf(user)).map((l) => l.movie_ids)).toEqual([[m[0], m[1]]]);
  });

  it("leaves the rows clicks and feedback refer to as they are", async () => {
    const user = await seedUser(orm);
    const m = await Promise.all([1, 2].map(() => seedMovie(orm)));
    const [row] = await orm.em.fork().execute<{ id: string }[]>(
      "insert into user_recommendations (user_id, movie_id, score, algorithm, clicked, clicked_at) values (?, ?, 0.5, 'hybrid', true, now()) returning id::text as id",
      [user, m[0]],
    );
    for (let k = 0; k < 3; k++) await inPgTransaction(pool, (c) => replaceLists(c, [user], [list(user, [m[1]])], new Date()));
    const rows = await orm.em.fork().execute<{ id: string; clicked: boolean }[]>("select id::text as id, clicked from user_recommendations where user_id = ?::bigint", [user]);
    expect(rows).toEqual([{ id: row!.id, clicked: true }]);
  });

  it("lets a concurrent reader see the old list or the new one, never a mix", async () => {
    const user = await seedUser(orm);
    const oldMovies = await Promise.all([1, 2, 3, 4, 5].map(() => seedMovie(orm)));
    const newMovies = await Promise.all([1, 2, 3, 4, 5].map(() => seedMovie(orm)));
    await inPgTransaction(pool, (c) => replaceLists(c, [user], [list(user, oldMovies)], new Date()));
    const seen: string[][] = [];
    let writing = true;
    const reader = (async () => {
      while (writing) seen.push((await currentOf(user))!.movie_ids);
    })();
    for (let k = 0; k < 10; k++) {
      await inPgTransaction(pool, (c) => replaceLists(c, [user], [list(user, k % 2 === 0 ? newMovies : oldMovies)], new Date()));
    }
    writing = false;
    await reader;
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect([oldMovies.join(), newMovies.join()]).toContain(s.join());
  });
});
