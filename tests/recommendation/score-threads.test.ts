// Batch scoring computes lists on scoring threads (score-threads.ts) when REC_SCORE_THREADS > 1. A user's lists and
// reasons must not depend on where they were computed, batches must come back to the batch that sent them whatever
// the threads' order, and a batch that fails in a thread must fail alone (its transaction rolls back) while the pool
// goes on serving the next ones.
import { afterAll, describe, expect, it } from "vitest";
import { topLists } from "../../src/modules/recommendation/algorithms/top-lists.ts";
import type { AlgorithmName } from "../../src/modules/recommendation/algorithms/recommender.ts";
import type { StoredModel } from "../../src/modules/recommendation/model-artefact.ts";
import { ScoringThreads, scoringThreadsFor } from "../../src/modules/recommendation/score-threads.ts";
import type { UserState } from "../../src/modules/recommendation/training-data.ts";
import { createUserListsScratch, ListPacker, unpackLists, type BatchLists } from "../../src/modules/recommendation/user-lists.ts";
import { seededRandom } from "../../src/platform/seeded-random.ts";
import { syntheticModel } from "./synthetic-model.ts";

const users = 70;
const items = 120;

function stored(): StoredModel {
  const model = syntheticModel({ seed: 3, users, items, pairs: 2000, genres: 5, words: 30, train: { maxItems: 80 } });
  return { meta: { version: "v-test" } as StoredModel["meta"], movieIds: Array.from({ length: items }, (_, i) => String(1000 + i)), model };
}

function states(count: number, seed: number): Map<string, UserState> {
  const rnd = seededRandom(seed);
  const out = new Map<string, UserState>();
  for (let u = 0; u < count; u++) {
    // Some users with favourite genres only (the fallback reason), some with nothing liked.
    const n = u % 6 === 3 ? 0 : 1 + Math.floor(rnd() * 30);
    const hist = Array.from({ length: n }, () => Math.floor(rnd() * items));
    out.set(String(500 + u), {
      history: {
        items: Int32Array.from(hist),
        values: Float32Array.from(hist, () => (rnd() < 0.15 ? -1 : 1)),
        times: Float64Array.from(hist, () => 1_700_000_000 + Math.floor(rnd() * 1e6)),
        extraTokens: new Map(u % 3 === 0 ? [["g:2", 1]] : []),
      },
      seen: new Set(hist.filter(() => rnd() < 0.8).map((i) => String(1000 + i))),
    });
  }
  return out;
}

function here(s: StoredModel, ids: string[], st: Map<string, UserState>): BatchLists {
  const packer = new ListPacker();
  const scratch = createUserListsScratch(s);
  for (const id of ids) packer.add(s, id, st.get(id)!, 25, scratch);
  return unpackLists(s, packer.done());
}

const pools: ScoringThreads[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe("scoring threads", () => {
  it("give every batch the lists and reasons this thread computes, batches in flight on both threads", async () => {
    const s = stored();
    const pool = new ScoringThreads(s, 2);
    pools.push(pool);
    const st = states(60, 9);
    const ids = [...st.keys()];
    // The last batch, every user, outgrows the packer's first buffers (4,096 items, 64 lists).
    const batches = [ids.slice(0, 17), ids.slice(17, 40), ids.slice(40), ids];
    const results = await Promise.all(batches.map((b) => pool.compute(b, st, 25)));
    let lists = 0;
    for (let k = 0; k < batches.length; k++) {
      expect(results[k]).toEqual(here(s, batches[k], st));
      lists += results[k].lists.length;
    }
    expect(lists).toBe(2 * 60 * 4);
    expect(results[3].items).toBeGreaterThan(4096);
    // And the packing is the ranking: every user's lists are topLists' over what they have not seen, in order.
    for (const r of results) {
      for (const l of r.lists) {
        const state = st.get(l.userId)!;
        const exclude = Uint8Array.from(s.movieIds, (m) => (state.seen.has(m) ? 1 : 0));
        const want = topLists(s.model, state.history, exclude, 25)[l.algorithm as AlgorithmName];
        expect(l.movieIds).toEqual(Array.from(want.indices, (j) => s.movieIds[j]));
        expect(l.scores).toEqual(Array.from(want.scores, (v) => Math.min(1, Math.max(0, v / want.scores[0]))));
      }
    }
    // Something to compare: lists are not empty, and some reasons name a movie and some the genres fallback.
    expect(results.flatMap((r) => r.lists).filter((l) => l.movieIds.length > 0).length).toBeGreaterThan(150);
    expect(results.flatMap((r) => r.reasons).some((r) => r.because.some((b) => b >= 0))).toBe(true);
    expect(results.flatMap((r) => r.reasons).some((r) => r.fallback !== undefined)).toBe(true);
  });

  it("fails a batch that fails in a thread, alone, and goes on with the next", async () => {
    const s = stored();
    const pool = new ScoringThreads(s, 2);
    pools.push(pool);
    const st = states(10, 4);
    const ids = [...st.keys()];
    // A user without a state makes the thread's compute throw.
    const bad = pool.compute([ids[0], "999999"], st, 25);
    const good = pool.compute(ids.slice(1, 5), st, 25);
    await expect(bad).rejects.toThrow(/scoring thread/);
    expect(await good).toEqual(here(s, ids.slice(1, 5), st));
    expect(await pool.compute(ids.slice(5), st, 25)).toEqual(here(s, ids.slice(5), st));
  });

  it("keep one pool per model version: a run on the old model goes on while the new model's batches start", async () => {
    const a = stored();
    const b = { ...stored(), meta: { version: "v-test-2" } as StoredModel["meta"] };
    const poolA = scoringThreadsFor(a, 2);
    pools.push(poolA);
    expect(scoringThreadsFor(a, 2)).toBe(poolA);
    const st = states(12, 8);
    const ids = [...st.keys()];
    const pendingA = poolA.compute(ids.slice(0, 6), st, 25);
    const poolB = scoringThreadsFor(b, 2);
    pools.push(poolB);
    expect(poolB).not.toBe(poolA);
    const [ra, rb] = await Promise.all([pendingA, poolB.compute(ids.slice(6), st, 25)]);
    expect(ra).toEqual(here(a, ids.slice(0, 6), st));
    expect(rb).toEqual(here(b, ids.slice(6), st));
  });

  it("refuses work once closed", async () => {
    const pool = new ScoringThreads(stored(), 1);
    await pool.close();
    await expect(pool.compute(["1"], new Map(), 10)).rejects.toThrow(/closed/);
  });
});
