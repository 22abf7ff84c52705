/**
 * Reads a ratings file into columns: MovieLens `ratings.csv` (userId,movieId,rating,timestamp with a header) or
 * the ML-100k `u.data` format (tab-separated user, item, rating, timestamp).
 */
import { readFileSync } from "node:fs";

export interface Ratings {
  /** Dense user index 0..users-1 per rating, and the raw ids behind them. */
  readonly user: Int32Array;
  readonly item: Int32Array;
  readonly rating: Float32Array;
  /** Unix seconds. */
  readonly time: Float64Array;
  readonly userIds: string[];
  readonly itemIds: string[];
}

/** Parses the whole file (ML-latest-small is 2.4 MB; the 25M file would want streaming). */
export function readRatings(path: string): Ratings {
  const text = readFileSync(path, "utf8");
  const lines = text.split(/\r?\n/);
  const users = new Map<string, number>();
  const items = new Map<string, number>();
  const u: number[] = [];
  const i: number[] = [];
  const r: number[] = [];
  const t: number[] = [];
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === "") continue;
    const f = line.includes("\t") ? line.split("\t") : line.includes("::") ? line.split("::") : line.split(",");
    if (n === 0 && !/^\d/.test(f[0])) continue; // header
    if (f.length < 4) throw new Error(`${path}:${n + 1}: expected user, item, rating, timestamp`);
    const rating = Number(f[2]);
    const time = Number(f[3]);
    if (!Number.isFinite(rating) || !Number.isFinite(time)) throw new Error(`${path}:${n + 1}: bad rating or timestamp`);
    let ui = users.get(f[0]);
    if (ui === undefined) users.set(f[0], (ui = users.size));
    let ii = items.get(f[1]);
    if (ii === undefined) items.set(f[1], (ii = items.size));
    u.push(ui);
    i.push(ii);
    r.push(rating);
    t.push(time);
  }
  // Items numbered in movie id order (numeric when the ids are), so ties in time split by (timestamp, movie id).
  const raw = [...items.keys()];
  const numeric = raw.every((id) => /^\d+$/.test(id));
  const sorted = raw.slice().sort((a, b) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0));
  const renumber = new Int32Array(raw.length);
  sorted.forEach((id, k) => (renumber[items.get(id)!] = k));
  return {
    user: Int32Array.from(u),
    item: Int32Array.from(i, (x) => renumber[x]),
    rating: Float32Array.from(r),
    time: Float64Array.from(t),
    userIds: [...users.keys()],
    itemIds: sorted,
  };
}
