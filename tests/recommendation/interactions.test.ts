/** Interactions against the real PostgreSQL: upsert rules, like/dislike exclusion, exact counters under concurrency. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { MikroORM } from "@mikro-orm/postgresql";
import { openOrm } from "../../src/platform/orm.ts";
import { InvalidInputError, NotFoundError } from "../../src/platform/errors.ts";
import { deleteInteraction, effectiveTime, listInteractions, recordInteraction } from "../../src/modules/recommendation/interactions.ts";
import { movieCounters, seedMovie, seedUser } from "./fixtures.ts";

let orm: MikroORM;
beforeAll(async () => {
  orm = await openOrm(inject("databaseUrl"), { poolMax: 8 });
});
afterAll(async () => orm.close(true));

describe("recordInteraction", () => {
  it("upserts per (user, movie, type): a repeated view refreshes its time and counts once", async () => {
    const [u, m] = [await seedUser(orm), await seedMovie(orm)];
    const first = await recordInteraction(orm.em, { userId: u, movieId: m, type: "view" }, new Date("2030-01-01T00:00:00Z"));
    const again = await recordInteraction(orm.em, { userId: u, movieId: m, type: "view" }, new Date("2030-01-02T00:00:00Z"));
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.interaction.id).toBe(first.interaction.id);
    expect(again.interaction.occurredAt.toISOString()).toBe("2030-01-02T00:00:00.000Z");
    expect((await movieCounters(orm, m)).views).toBe(1);
  });

  it("replaces a rating and keeps our_rating the mean on the 10-point scale", async () => {
    const m = await seedMovie(orm);
    const [a, b] = [await seedUser(orm), await seedUser(orm)];
    await recordInteraction(orm.em, { userId: a, movieId: m, type: "rating", rating: 5 });
    await recordInteraction(orm.em, { userId: b, movieId: m, type: "rating", rating: 2 });
    expect((await movieCounters(orm, m)).ourRating).toBe(7);
    await recordInteraction(orm.em, { userId: a, movieId: m, type: "rating", rating: 3 });
    expect((await movieCounters(orm, m)).ourRating).toBe(5);
    await deleteInteraction(orm.em, b, { movieId: m, type: "rating" });
    expect((await movieCounters(orm, m)).ourRating).toBe(6);
  });

  it("makes like and dislike exclude each other, with like_count following", async () => {
    const [u, m] = [await seedUser(orm), await seedMovie(orm)];
    await recordInteraction(orm.em, { userId: u, movieId: m, type: "like" });
    expect((await movieCounters(orm, m)).likes).toBe(1);
    await recordInteraction(orm.em, { userId: u, movieId: m, type: "dislike" });
    expect((await movieCounters(orm, m)).likes).toBe(0);
    const list = await listInteractions(orm.em, u, { limit: 10 });
    expect(list.rows.map((r) => r.type)).toEqual(["dislike"]);
  });

  it("keeps counters exact under concurrent writers", async () => {
    const m = await seedMovie(orm);
    const users = await Promise.all(Array.from({ length: 12 }, () => seedUser(orm)));
    await Promise.all(users.flatMap((u, k) => [
      recordInteraction(orm.em, { userId: u, movieId: m, type: "like" }),
      recordInteraction(orm.em, { userId: u, movieId: m, type: "view" }),
      recordInteraction(orm.em, { userId: u, movieId: m, type: "rating", rating: (k % 5) + 1 }),
    ]));
    const c = await movieCounters(orm, m);
    expect(c.likes).toBe(12);
    expect(c.views).toBe(12);
    // Ratings 1..5, 1..5, 1, 2: 33 / 12 = 2.75 stars → 5.5 on the 10-point scale.
    expect(c.ourRating).toBe(5.5);
  });

  it("refuses bad ratings and unknown movies", async () => {
    const u = await seedUser(orm);
    const m = await seedMovie(orm);
    await expect(recordInteraction(orm.em, { userId: u, movieId: m, type: "rating", rating: 6 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(recordInteraction(orm.em, { userId: u, movieId: m, type: "like", rating: 3 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(recordInteraction(orm.em, { userId: u, movieId: "999999999999", type: "view" })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("bounds client times to the past 30 days", () => {
    const now = new Date("2030-06-01T00:00:00Z");
    expect(effectiveTime(new Date("2030-05-30T00:00:00Z"), now).toISOString()).toBe("2030-05-30T00:00:00.000Z");
    expect(effectiveTime(new Date("2030-06-02T00:00:00Z"), now)).toBe(now);
    expect(effectiveTime(new Date("2029-01-01T00:00:00Z"), now)).toBe(now);
  });
});

describe("deleteInteraction and listInteractions", () => {
  it("deletes by key or id (only the owner's), and pages newest first", async () => {
    const [u, other] = [await seedUser(orm), await seedUser(orm)];
    const movies = await Promise.all([seedMovie(orm), seedMovie(orm), seedMovie(orm)]);
    const base = Date.now() - 3600_000;
    for (const [k, m] of movies.entries()) await recordInteraction(orm.em, { userId: u, movieId: m, type: "watchlist", clientTime: new Date(base + k * 1000) });
    const page1 = await listInteractions(orm.em, u, { limit: 2, type: "watchlist" });
    expect(page1.rows.map((r) => r.movieId)).toEqual([movies[2], movies[1]]);
    const page2 = await listInteractions(orm.em, u, { limit: 2, type: "watchlist", after: page1.next });
    expect(page2.rows.map((r) => r.movieId)).toEqual([movies[0]]);
    expect(page2.next).toBeUndefined();
    expect(await deleteInteraction(orm.em, other, { id: page1.rows[0].id })).toBe(false);
    expect(await deleteInteraction(orm.em, u, { id: page1.rows[0].id })).toBe(true);
    expect(await deleteInteraction(orm.em, u, { movieId: movies[0], type: "watchlist" })).toBe(true);
    expect(await deleteInteraction(orm.em, u, { movieId: movies[0], type: "watchlist" })).toBe(false);
    expect((await listInteractions(orm.em, u, { limit: 10 })).rows.map((r) => r.movieId)).toEqual([movies[1]]);
  });
});
