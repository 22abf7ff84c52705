// scoreContent builds the user profile in a dense scratch and keeps its strongest features through a threshold; it
// must score exactly as the Map-and-stable-sort version it replaced (the served = evaluated figures rest on it).
import { describe, expect, it } from "vitest";
import { scoreContent, trainContent, type ContentModel } from "../../src/modules/recommendation/algorithms/content.ts";
import { seededRandom } from "../../src/platform/seeded-random.ts";

/** The former implementation, kept here as the reference. */
function reference(model: ContentModel, items: number[], values: number[], out: Float32Array, extra: Map<string, number>, max: number): void {
  const profile = new Map<number, number>();
  for (let h = 0; h < items.length; h++) {
    const i = items[h]!;
    for (let p = model.items.indptr[i]!; p < model.items.indptr[i + 1]!; p++) {
      const f = model.items.indices[p]!;
      profile.set(f, (profile.get(f) ?? 0) + values[h]! * model.items.data[p]!);
    }
  }
  for (const [tok, w] of extra) {
    const f = model.vocabulary.get(tok);
    if (f !== undefined) profile.set(f, (profile.get(f) ?? 0) + w);
  }
  let norm = 0;
  for (const w of profile.values()) norm += w * w;
  if (norm === 0) return;
  const s = 1 / Math.sqrt(norm);
  const kept = profile.size <= max ? profile : [...profile].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, max);
  for (const [f, w] of kept) {
    for (let p = model.byFeature.indptr[f]!; p < model.byFeature.indptr[f + 1]!; p++) out[model.byFeature.indices[p]!]! += w * s * model.byFeature.data[p]!;
  }
}

describe("content scoring", () => {
  it("scores exactly as the Map-and-sort profile did, ties and cuts included, user after user", () => {
    const rnd = seededRandom(7);
    const genres = ["g:a", "g:b", "g:c", "g:d"];
    // Few distinct weights (field weights of 1 and 2, shared genres): many ties at the cut.
    const tokens = Array.from({ length: 400 }, () => [
      genres[Math.floor(rnd() * 4)]!,
      ...Array.from({ length: 6 }, () => (rnd() < 0.5 ? `w:${Math.floor(rnd() * 300)}` : ([`k:${Math.floor(rnd() * 100)}`, 2] as const))),
    ]);
    const model = trainContent(tokens);
    for (let u = 0; u < 40; u++) {
      const n = 1 + Math.floor(rnd() * 60);
      const items = Array.from({ length: n }, () => Math.floor(rnd() * 400));
      const values = items.map(() => (rnd() < 0.2 ? -1 : 1 + Math.floor(rnd() * 2)));
      const extra = new Map(u % 3 === 0 ? [["g:b", 0.5]] : []);
      const max = [5, 20, 200][u % 3]!;
      const got = new Float32Array(400);
      const want = new Float32Array(400);
      scoreContent(model, items, values, got, extra, max);
      reference(model, items, values, want, extra, max);
      expect(Array.from(got)).toEqual(Array.from(want));
    }
  });
});
