// The training load streams (user, movie) aggregates through one binary COPY (pg-binary-copy.ts). The reader must
// give the same rows however the stream is cut into chunks, refuse a stream that is not what it expects, and the load
// must give what the per-interaction weights say: sums per pair, the latest time, users in id order, movies in
// catalogue order, nothing of inactive movies.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Float8CopyReader, BinaryCopyFormatError } from "../../src/modules/recommendation/pg-binary-copy.ts";
import { loadCatalogue, loadTrainingData } from "../../src/modules/recommendation/training-data.ts";
import { interactionWeight } from "../../src/modules/recommendation/interaction-weights.ts";
import type { InteractionType } from "../../src/modules/recommendation/entities/index.ts";
import { ensurePartitions } from "../../src/platform/partitions.ts";
import { openTestDatabase, sql, type MigratedDatabase } from "../db/helpers.ts";

/** A binary COPY stream of float8 rows (null for NULL), with a header extension of `ext` bytes. */
function encode(rows: (number | null)[][], ext = 0): Buffer {
  const parts: Buffer[] = [Buffer.from("PGCOPY\n\xff\r\n\0", "latin1")];
  const head = Buffer.alloc(8 + ext, 7);
  head.writeInt32BE(0, 0);
  head.writeInt32BE(ext, 4);
  parts.push(head);
  for (const row of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(row.length);
    parts.push(count);
    for (const v of row) {
      const f = Buffer.alloc(v === null ? 4 : 12);
      f.writeInt32BE(v === null ? -1 : 8, 0);
      if (v !== null) f.writeDoubleBE(v, 4);
      parts.push(f);
    }
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

function read(chunks: Buffer[], columns = 3): number[][] {
  const out: number[][] = [];
  const reader = new Float8CopyReader(columns, (r) => out.push([...r]));
  for (const c of chunks) reader.push(c);
  reader.end();
  return out;
}

describe("binary COPY reader", () => {
  const rows = [
    [1, 2.5, -3],
    [9007199254740991, 0, 1e-300],
    [4, null, 1722470400.123],
  ];
  const expected = rows.map((r) => r.map((v) => (v === null ? NaN : v)));
  const bytes = encode(rows, 5);

  it("reads the same rows whatever the chunking", () => {
    expect(read([bytes])).toEqual(expected);
    for (let cut = 0; cut <= bytes.length; cut++) expect(read([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(expected);
    expect(read([...bytes].map((b) => Buffer.from([b])))).toEqual(expected);
  });

  it("refuses a stream that ends early, has other columns or is not binary COPY", () => {
    for (const cut of [3, 19, 30, bytes.length - 1]) expect(() => read([bytes.subarray(0, cut)])).toThrow(BinaryCopyFormatError);
    expect(() => read([bytes], 4)).toThrow(/expected 4 fields/);
    expect(() => read([Buffer.from("1\t2\t3\n".repeat(4))])).toThrow(/not a binary COPY/);
    expect(() => read([Buffer.concat([bytes, Buffer.from([0, 3])])])).toThrow(/after the end/);
  });
});

describe("training load", () => {
  let db: MigratedDatabase;
  beforeAll(async () => {
    db = await openTestDatabase("movierec_trainload");
    await ensurePartitions(db.orm, { now: new Date(), monthsAhead: 1 });
  });
  afterAll(async () => {
    await db?.close();
  });

  it("sums each pair's weights, keeps its latest time, numbers users in id order and skips inactive movies", async () => {
    const movies: string[] = [];
    for (let k = 0; k < 6; k++) {
      const [m] = await sql<{ id: string }>(db.orm, "insert into movies (tmdb_id, title, original_title, original_language, is_active) values (?, ?, ?, 'en', ?) returning id::text as id", [
        700 + k,
        `M${k}`,
        `M${k}`,
        k !== 4,
      ]);
      movies.push(m.id);
    }
    // More users than one of the old chunks would not add anything here; ids out of insertion order do.
    const users: string[] = [];
    for (let k = 0; k < 5; k++) {
      const [u] = await sql<{ id: string }>(db.orm, "insert into users (id, username, email, password) values (?, ?, ?, 'x') returning id::text as id", [
        [30, 7, 120, 8, 9][k],
        `u${k}`,
        `u${k}@example.test`,
      ]);
      users.push(u.id);
    }
    const types: InteractionType[] = ["view", "like", "rating", "dislike", "favorite", "share", "watchlist"];
    const base = Date.parse("2026-11-20T00:00:00Z");
    type Row = { u: string; m: string; type: InteractionType; rating: number | null; t: number };
    const inserted: Row[] = [];
    let seed = 11;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (const u of users.slice(0, 4)) {
      for (let n = 0; n < 14; n++) {
        const type = types[Math.floor(rnd() * types.length)];
        const row: Row = { u, m: movies[Math.floor(rnd() * movies.length)], type, rating: type === "rating" ? 1 + Math.floor(rnd() * 5) : null, t: base + Math.floor(rnd() * 8e8) };
        // One interaction per (user, movie, type) (unique_user_movie_interaction); a pair still gets several types.
        if (!inserted.some((r) => r.u === u && r.m === row.m && r.type === type)) inserted.push(row);
      }
    }
    // User 9 interacted only with the inactive movie: not a training user.
    inserted.push({ u: "9", m: movies[4], type: "like", rating: null, t: base });
    for (const r of inserted) {
      await sql(db.orm, `insert into user_movie_interactions (user_id, movie_id, interaction_type, rating, "timestamp") values (?, ?, ?, ?, ?)`, [r.u, r.m, r.type, r.rating, new Date(r.t)]);
    }

    const catalogue = await loadCatalogue(db.orm.em.fork());
    const data = await loadTrainingData(db.orm.em.fork(), catalogue, new Date(base));

    // The reference, from the inserted rows and the weights in JS.
    const pairs = new Map<string, { w: number; t: number; n: number }>();
    for (const r of inserted) {
      if (r.m === movies[4]) continue;
      const key = `${r.u}:${r.m}`;
      const p = pairs.get(key) ?? { w: 0, t: 0, n: 0 };
      p.w += interactionWeight(r.type, r.rating);
      p.t = Math.max(p.t, r.t);
      p.n++;
      pairs.set(key, p);
    }
    const keys = [...pairs.keys()].sort((a, b) => {
      const [ua, ma] = a.split(":").map(Number);
      const [ub, mb] = b.split(":").map(Number);
      return ua - ub || ma - mb;
    });
    const userOrder = [...new Set(keys.map((k) => k.split(":")[0]))];
    expect(userOrder).toEqual(["7", "8", "30", "120"]);
    expect(catalogue.movieIds).toEqual(movies.filter((_, k) => k !== 4));
    expect(data.userIds).toEqual(userOrder);
    expect(data.users).toBe(4);
    expect(data.items).toBe(5);
    expect([...data.user]).toEqual(keys.map((k) => userOrder.indexOf(k.split(":")[0])));
    expect([...data.item]).toEqual(keys.map((k) => catalogue.index.get(k.split(":")[1])));
    expect([...data.weight]).toEqual(keys.map((k) => Math.fround(pairs.get(k)!.w)));
    expect([...data.time]).toEqual(keys.map((k) => pairs.get(k)!.t / 1000));
    expect(data.interactionCount).toBe([...pairs.values()].reduce((s, p) => s + p.n, 0));
  });
});
