// Batch scoring reads a batch's interactions by binary COPY (loadUserHistories on a pg client); any other executor
// reads text rows. Both must give every user the same state: items in the same order, the same summed weights and
// latest times, the same seen movies — every interaction type (a rating with its stars, the others NULL), movies outside the
// model, users without interactions.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { MikroORM } from "@mikro-orm/postgresql";
import type pg from "pg";
import { openOrm } from "../../src/platform/orm.ts";
import { clientExecutor, inPgTransaction } from "../../src/modules/recommendation/list-writer.ts";
import { loadUserHistories } from "../../src/modules/recommendation/training-data.ts";
import { INTERACTION_TYPES } from "../../src/modules/recommendation/entities/index.ts";
import { seededRandom } from "../../src/platform/seeded-random.ts";
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

describe("loadUserHistories", () => {
  it("gives the same states by binary COPY as by text rows", async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => seedUser(orm)));
    const movies = await Promise.all(Array.from({ length: 40 }, () => seedMovie(orm)));
    // The model knows 30 of the 40 movies, in an order of its own.
    const index = new Map(movies.slice(0, 30).reverse().map((m, i) => [m, i]));
    const rnd = seededRandom(21);
    const rows: string[] = [];
    for (const [u, user] of users.entries()) {
      if (u === 5) continue; // no interactions at all
      for (let k = 0; k < 25; k++) {
        const type = INTERACTION_TYPES[Math.floor(rnd() * INTERACTION_TYPES.length)];
        const rating = type === "rating" ? String(1 + Math.floor(rnd() * 5)) : "null";
        // Several rows per movie (one per type: they sum), times to the microsecond.
        rows.push(`(${user}, ${movies[Math.floor(rnd() * movies.length)]}, '${type}', ${rating}, timestamptz '2026-01-01' + ${Math.floor(rnd() * 1e12)} * interval '1 microsecond')`);
      }
    }
    await orm.em.fork().execute(`insert into user_movie_interactions (user_id, movie_id, interaction_type, rating, "timestamp") values ${rows.join(",")} on conflict do nothing`);
    const { byCopy, byRows } = await inPgTransaction(pool, async (client) => {
      const tx = clientExecutor(client);
      return { byCopy: await loadUserHistories(tx, users, index), byRows: await loadUserHistories({ execute: tx.execute }, users, index) };
    });
    expect(byCopy).toEqual(byRows);
    for (const u of users) {
      expect(Array.from(byCopy.get(u)!.history.items)).toEqual(Array.from(byRows.get(u)!.history.items));
      expect([...byCopy.get(u)!.seen].sort()).toEqual([...byRows.get(u)!.seen].sort());
    }
    // Something to compare: histories with summed weights, unknown movies among the seen, the empty user.
    expect(byCopy.get(users[0])!.history.items.length).toBeGreaterThan(10);
    expect([...byCopy.get(users[1])!.seen].some((m) => !index.has(m))).toBe(true);
    expect(byCopy.get(users[5])!.history.items.length).toBe(0);
  });
});
