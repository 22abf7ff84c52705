// Item-kNN training computes each pair once and offers it to both items (algorithms/item-knn.ts). What it keeps
// must be, to the bit, the brute-force definition: for every item the k best other items by shrunk cosine over the
// users they share (products summed in user order, float32 similarities), positive only, ties to the lower item —
// including the many exact ties of items seen by one user, zero weights stored in the matrix, and item ranges swept
// apart and merged (how threads split the work).
import { describe, expect, it } from "vitest";
import { csrFromCoo, transpose, type Csr } from "../../src/modules/recommendation/algorithms/csr.ts";
import { columnNorms, NeighbourHeaps, PairSweeper, trainItemKnn } from "../../src/modules/recommendation/algorithms/item-knn.ts";
import { equalWorkRanges } from "../../src/modules/recommendation/algorithms/item-knn-threads.ts";
import { seededRandom } from "../../src/platform/seeded-random.ts";

function matrix(seed: number, users: number, items: number, entries: number): Csr {
  const rnd = seededRandom(seed);
  const r: number[] = [];
  const c: number[] = [];
  const v: number[] = [];
  for (let e = 0; e < entries; e++) {
    r.push(Math.floor(rnd() * users));
    // Skewed: a few popular items, a long tail of items seen once (equal similarities at the cut).
    c.push(Math.floor(rnd() ** 3 * items));
    // Some stored zeros (negative feedback clipped), a few distinct positive weights (more exact ties).
    v.push(rnd() < 0.1 ? 0 : [1, 1, 2, 0.5][Math.floor(rnd() * 4)]);
  }
  return csrFromCoo(users, items, r, c, v);
}

/** The definition, pair by pair. */
function bruteForce(x: Csr, k: number, shrink: number): { indices: number[]; data: number[] }[] {
  const xt = transpose(x);
  const col = (j: number) => new Map([...xt.indices.subarray(xt.indptr[j], xt.indptr[j + 1])].map((u, t) => [u, xt.data[xt.indptr[j] + t]]));
  const cols = Array.from({ length: xt.rows }, (_, j) => col(j));
  const norm = cols.map((m) => Math.sqrt([...m.values()].reduce((s, w) => s + w * w, 0)));
  return cols.map((ca, a) => {
    const cands: { b: number; s: number }[] = [];
    cols.forEach((cb, b) => {
      if (b === a) return;
      let dot = 0;
      for (const [u, w] of ca) if (cb.has(u)) dot += w * cb.get(u)!;
      if (dot > 0) cands.push({ b, s: Math.fround(dot / (norm[a] * norm[b] + shrink)) });
    });
    const kept = cands.sort((p, q) => q.s - p.s || p.b - q.b).slice(0, k).sort((p, q) => p.b - q.b);
    return { indices: kept.map((p) => p.b), data: kept.map((p) => p.s) };
  });
}

const rows = (sim: Csr) => Array.from({ length: sim.rows }, (_, a) => ({ indices: [...sim.indices.subarray(sim.indptr[a], sim.indptr[a + 1])], data: [...sim.data.subarray(sim.indptr[a], sim.indptr[a + 1])] }));

describe("item-kNN training", () => {
  for (const [seed, k, shrink] of [
    [1, 5, 0],
    [2, 8, 10],
    [3, 60, 2],
  ]) {
    it(`keeps the k best neighbours of the definition (seed ${seed}, k ${k}, shrink ${shrink})`, () => {
      const x = matrix(seed, 90, 70, 1200);
      const sim = trainItemKnn(x, { k, shrink });
      expect(rows(sim)).toEqual(bruteForce(x, k, shrink));
      // Never itself, every kept similarity in (0, 1].
      for (let a = 0; a < sim.rows; a++) expect(sim.indices.subarray(sim.indptr[a], sim.indptr[a + 1]).includes(a)).toBe(false);
      expect(sim.data.every((s) => s > 0 && s <= 1)).toBe(true);
    });
  }

  it("gives the same neighbours when item ranges are swept apart and their heaps merged", () => {
    const x = matrix(4, 120, 80, 1500);
    const xt = transpose(x);
    const norms = columnNorms(xt);
    const whole = trainItemKnn(x, { k: 7, shrink: 3 });
    const parts = [0, 13, 40, 80];
    const merged = new NeighbourHeaps(xt.rows, 7);
    // Out of order, two ranges on one sweeper (its cursors must restart with each range).
    const sweeper = new PairSweeper(x, xt, norms, 3);
    const a = new NeighbourHeaps(xt.rows, 7);
    sweeper.sweep(parts[2], parts[3], a);
    sweeper.sweep(parts[0], parts[1], a);
    const b = new NeighbourHeaps(xt.rows, 7);
    new PairSweeper(x, xt, norms, 3).sweep(parts[1], parts[2], b);
    merged.merge(b);
    merged.merge(a);
    expect(rows(merged.toCsr())).toEqual(rows(whole));
  });
});

describe("item-kNN training on several threads", () => {
  it("gives the definition's neighbours with the sweep split over helper threads", () => {
    const x = matrix(5, 150, 90, 2500);
    for (const threads of [2, 3]) expect(rows(trainItemKnn(x, { k: 9, shrink: 1, threads }))).toEqual(bruteForce(x, 9, 1));
  });

  it("splits the items into ranges of about equal sweep work", () => {
    const x = matrix(6, 400, 300, 20000);
    const bounds = [...equalWorkRanges(x, 300, 4)];
    expect(bounds[0]).toBe(0);
    expect(bounds.at(-1)).toBe(300);
    expect(bounds.length).toBeGreaterThanOrEqual(4);
    expect(bounds.every((b, k) => k === 0 || b > bounds[k - 1])).toBe(true);
    // Popular items come first (skewed draw), so equal work is far from equal item counts.
    expect(bounds[2]).toBeLessThan(100);
  });
});
