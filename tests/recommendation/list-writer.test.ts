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
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { from as copyFrom } from "pg-copy-streams";
import { seededRandom } from "../../src/platform/seeded-random.ts";

/** The text COPY the writer sent before it sent binary: what the binary rows must store, value for value. */
function textCopy(lists: readonly ScoredList[], generatedAt: string): string {
  return lists.map((l) => `${l.userId}\t${l.algorithm}\t${generatedAt}\t{${l.movieIds.join(",")}}\t{${l.scores.map((v) => Math.fround(v).toPrecision(9)).join(",")}}\n`).join("");
}

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

  it("stores from its binary COPY what the text COPY stored: ids (past 2^32 and 2^53), float4 scores, time, empty lists", async () => {
    const users = [await seedUser(orm), await seedUser(orm)];
    const rnd = seededRandom(11);
    const special = [0, 1, -0, 2 ** -149, 1 - 2 ** -25, 1 - 2 ** -24, 0.1, 1 / 3, 2 / 3, 0.999999999, 1e-40, 5e-324, 0.5 + 2 ** -25];
    const ids = ["1", "4294967295", "4294967296", "9007199254740991", "9007199254740993", "9223372036854775807", "123456789012"];
    const lists: ScoredList[] = [];
    for (let k = 0; k < 40; k++) {
      const n = k % 9 === 0 ? 0 : 1 + Math.floor(rnd() * 150);
      const movieIds = Array.from({ length: n }, (_, i) => (i < ids.length && k % 2 === 1 ? ids[i] : String(1 + Math.floor(rnd() * 2 ** 40))));
      const scores = Array.from({ length: n }, (_, i) => (i < special.length && k % 3 === 1 ? special[i] : rnd()));
      lists.push({ userId: users[k % 2], algorithm: `bin-${k}`, movieIds, scores });
    }
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    await inPgTransaction(pool, (c) => replaceLists(c, users, lists, at));
    const reference = lists.map((l) => ({ ...l, algorithm: l.algorithm.replace("bin", "txt") }));
    await inPgTransaction(pool, (c) =>
      pipeline(
        Readable.from([Buffer.from(textCopy(reference, at.toISOString()))]),
        c.query(copyFrom("copy user_recommendation_lists (user_id, algorithm, generated_at, movie_ids, scores) from stdin")),
      ),
    );
    const rows = await orm.em.fork().execute<{ algorithm: string; u: string; t: string; m: string; s: string; bytes: string }[]>(
      `select algorithm, user_id::text as u, generated_at::text as t, movie_ids::text as m, scores::text as s,
              (select coalesce(string_agg(encode(float4send(x), 'hex'), ',' order by o), '') from unnest(scores) with ordinality as z(x, o)) as bytes
         from user_recommendation_lists where user_id = any(?::bigint[]) order by algorithm`,
      [`{${users.join(",")}}`],
    );
    const byName = new Map(rows.map((r) => [r.algorithm, r]));
    expect(rows.length).toBe(80);
    for (let k = 0; k < lists.length; k++) {
      const bin = byName.get(`bin-${k}`)!;
      const txt = byName.get(`txt-${k}`)!;
      expect({ ...bin, algorithm: "" }).toEqual({ ...txt, algorithm: "" });
    }
    // Something to compare: long lists, the largest int8, float4 rounding of a double in the scores.
    expect(byName.get("bin-1")!.m).toContain("9223372036854775807");
    expect(byName.get("bin-1")!.s).toContain("0.99999994");
  });
});

