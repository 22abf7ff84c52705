/**
 * A small model trained on random interactions, for tests that compare two ways of scoring with it: skewed item
 * popularity, some dislikes, coarse times (many trends tie, and so do scaled ones), genre and word tokens.
 */
import { DEFAULT_TRAIN, trainRecommender, type Recommender, type TrainOptions } from "../../src/modules/recommendation/algorithms/recommender.ts";
import { seededRandom } from "../../src/platform/seeded-random.ts";

export function syntheticModel(opts: { seed: number; users: number; items: number; pairs: number; genres: number; words: number; extraTokens?: string[]; train?: Partial<TrainOptions> }): Recommender {
  const { users, items } = opts;
  const rnd = seededRandom(opts.seed);
  const pairs = new Map<number, number>();
  for (let k = 0; k < opts.pairs; k++) pairs.set(Math.floor(rnd() * users) * items + Math.floor(rnd() * rnd() * items), rnd() < 0.1 ? -1 : 1 + Math.floor(rnd() * 4) / 3);
  const keys = [...pairs.keys()];
  return trainRecommender(
    {
      users,
      items,
      user: Int32Array.from(keys, (k) => Math.floor(k / items)),
      item: Int32Array.from(keys, (k) => k % items),
      weight: Float32Array.from(keys, (k) => pairs.get(k)!),
      time: Float64Array.from(keys, () => 1_700_000_000 + 86_400 * Math.floor(rnd() * 20)),
      tokens: Array.from({ length: items }, (_, i) => [`g:${i % opts.genres}`, `w:${Math.floor(rnd() * opts.words)}`, ...(opts.extraTokens ?? [])]),
      now: 1_702_000_000,
    },
    { ...DEFAULT_TRAIN, ...opts.train },
  );
}
