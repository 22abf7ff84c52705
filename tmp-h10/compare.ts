import { openBenchDatabase } from "../src/bench/bench-database.ts";
import { openOrm } from "../src/platform/orm.ts";
import { readRatings } from "../src/eval/ratings-file.ts";
import { temporalSplit } from "../src/eval/split.ts";
import { loadSplit, readMovieInfo } from "../src/eval/served-eval.ts";
import { loadCatalogue, loadTrainingData } from "../src/modules/recommendation/training-data.ts";
import { trainContent } from "../src/modules/recommendation/algorithms/content.ts";
import { ratingWeight } from "../src/modules/recommendation/interaction-weights.ts";
const path = process.argv[2];
const db = await openBenchDatabase();
try {
  const file = readRatings(path);
  const split = temporalSplit({ ...file, weight: Float32Array.from(file.rating, (r) => ratingWeight(r)) }, { minInteractions: 5, testFraction: 0.2 });
  const orm = await openOrm(db.url);
  const { userIds, movieIds } = await loadSplit({ orm }, file, split, readMovieInfo(path));
  const cat = await loadCatalogue(orm.em.fork());
  const data = await loadTrainingData(orm.em.fork(), cat, new Date());
  // served entries keyed by (file user, file item)
  const uOf = new Map(userIds.map((id, k) => [id, k]));
  const iOf = new Map(movieIds.map((id, k) => [id, k]));
  const served = new Map<string, [number, number]>();
  for (let k = 0; k < data.user.length; k++) served.set(`${uOf.get(data.userIds[data.user[k]])}:${iOf.get(cat.movieIds[data.item[k]])}`, [data.weight[k], data.time[k]]);
  let diff = 0, missing = 0;
  for (let k = 0; k < split.train.user.length; k++) {
    const s = served.get(`${split.train.user[k]}:${split.train.item[k]}`);
    if (!s) { missing++; continue; }
    if (s[0] !== split.train.weight![k] || s[1] !== split.train.time[k]) { if (diff++ < 5) console.log("diff", s, split.train.weight![k], split.train.time[k]); }
  }
  console.log({ offline: split.train.user.length, served: data.user.length, missing, diff, users: data.users, items: data.items });
  // item order: served catalogue index vs file item index
  let order = 0; let prev = -1;
  for (const id of cat.movieIds) { const i = iOf.get(id)!; if (i < prev) { if (order++ < 5) console.log("inv", id, i, prev, file.itemIds[i], file.itemIds[prev]); } prev = i; }
  console.log("catalogue out of file order:", order);
  const c = trainContent(data.tokens!);
  console.log("vocab", c.vocabulary.size, [...c.vocabulary.keys()].slice(0, 5));
  await orm.close();
} finally { await db.drop(); }
