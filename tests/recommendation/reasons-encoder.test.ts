// Batch scoring writes reasons with encodeBatchReasons (reasons-encoder.ts), a string builder; what Redis stores must
// stay exactly what encodeReasons (reasons.ts) gives — the same bytes, so JSON key order included — on any lists.
import { describe, expect, it } from "vitest";
import { encodeReasons, type StoredReasons } from "../../src/modules/recommendation/reasons.ts";
import { encodeBatchReasons } from "../../src/modules/recommendation/reasons-encoder.ts";
import type { ListReasons } from "../../src/modules/recommendation/user-lists.ts";
import { ALGORITHMS } from "../../src/modules/recommendation/algorithms/recommender.ts";
import { seededRandom } from "../../src/platform/seeded-random.ts";

const reference = (r: ListReasons, titles: ReadonlyMap<number, string>) =>
  encodeReasons(r.movieIds.map((m, k) => [m, r.because[k] >= 0 ? titles.get(r.because[k]) : undefined]), r.fallback);

/** Random lists over `movieIds`: reasons from a few liked items, some without a title, some titles shared. */
function batch(seed: number, movieIds: string[], lists: number, duplicates = false) {
  const rnd = seededRandom(seed);
  const pick = () => Math.floor(rnd() * movieIds.length);
  const odd = ["Alien", 'Say "When"', "back\\slash", "tab\there", "Amélie", "東京物語", "emoji 🎬", "\u2028line", "lone \ud800"];
  const titles = new Map<number, string>();
  for (let i = 0; i < movieIds.length; i++) {
    if (rnd() < 0.1) continue; // no title: a movie deleted since
    titles.set(i, rnd() < 0.2 ? odd[Math.floor(rnd() * odd.length)] : `Movie ${Math.floor(rnd() * movieIds.length / 2)}`);
  }
  const out: ListReasons[] = [];
  for (let l = 0; l < lists; l++) {
    const liked = Array.from({ length: Math.floor(rnd() * 12) }, pick);
    const n = rnd() < 0.05 ? 0 : Math.floor(rnd() * 120);
    const items = new Set<number>();
    while (items.size < Math.min(n, movieIds.length)) items.add(pick());
    const ids = [...items].map((i) => movieIds[i]);
    if (duplicates && ids.length > 2) ids.push(ids[Math.floor(rnd() * ids.length)]);
    out.push({
      userId: String(l),
      algorithm: ALGORITHMS[l % ALGORITHMS.length],
      movieIds: ids,
      because: ids.map(() => (liked.length === 0 || rnd() < 0.3 ? -1 : liked[Math.floor(rnd() * liked.length)])),
      ...(rnd() < 0.3 ? { fallback: rnd() < 0.9 ? "Popular in your favourite genres" : "" } : {}),
    });
  }
  return { lists: out, titles };
}

describe("encodeBatchReasons", () => {
  it("gives encodeReasons' bytes for every list, ids in any order, shared and odd titles, missing titles", () => {
    // Ids as the catalogue has them (increasing) and shuffled, short and up to the largest array index.
    const ids = Array.from({ length: 400 }, (_, i) => String(i < 390 ? 1 + i * 37 : 2 ** 32 - 12 + (i - 390)));
    const shuffled = [...ids].sort((a, b) => ((Number(a) * 7919) % 1000) - ((Number(b) * 7919) % 1000));
    for (const [seed, movieIds] of [[1, ids], [2, shuffled], [3, ["0", ...ids.slice(1)]]] as const) {
      const { lists, titles } = batch(seed, [...movieIds], 600);
      const got = encodeBatchReasons(movieIds, lists, titles);
      expect(got).toEqual(lists.map((r) => reference(r, titles)));
      // Something to compare: reasons named, the fallback, the numeric key order differing from the list order.
      const parsed = got.map((s) => JSON.parse(s) as StoredReasons);
      expect(parsed.filter((p) => p.t.length > 1).length).toBeGreaterThan(300);
      expect(parsed.some((p) => p.d !== undefined)).toBe(true);
      expect(lists.some((r, l) => Object.keys(parsed[l].r).join() !== r.movieIds.filter((m) => m in parsed[l].r).join())).toBe(true);
    }
  });

  it("keeps the last title of an id listed twice, as an object does", () => {
    const ids = Array.from({ length: 300 }, (_, i) => String(100 + i));
    const { lists, titles } = batch(4, ids, 300, true);
    expect(encodeBatchReasons(ids, lists, titles)).toEqual(lists.map((r) => reference(r, titles)));
  });

  it("falls back to encodeReasons for ids an object does not order numerically", () => {
    for (const odd of ["4294967295", "007", "-1", "1e3", "x12"]) {
      const ids = [...Array.from({ length: 200 }, (_, i) => String(500 - i)), odd];
      const { lists, titles } = batch(5, ids, 200);
      const got = encodeBatchReasons(ids, lists, titles);
      expect(got).toEqual(lists.map((r) => reference(r, titles)));
      expect(got.some((s) => s.includes(`"${odd}":`))).toBe(true);
    }
  });
});
