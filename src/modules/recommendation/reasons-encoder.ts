/**
 * Batch scoring's encoder of reasons: each list's stored form (reasons.ts, `StoredReasons`) written straight as a
 * string, byte for byte what `encodeReasons` gives (tests/recommendation/reasons-encoder.test.ts compares them).
 * `encodeReasons` builds an object keyed by movie id per list and has JSON.stringify walk it; at 400 list items per
 * user that was the largest cost of the batch's own thread. The key order is the one part that needs care: the
 * object lists integer-like keys (canonical array indices, up to 2^32 − 2) in ascending numeric order, whatever the
 * insertion order — so this sorts the entries by id, and takes encodeReasons itself for a model with other ids.
 */
import { encodeReasons } from "./reasons.ts";
import type { ListReasons } from "./user-lists.ts";

/** Per id array: whether every id is a canonical array index (what JSON.stringify orders numerically). */
const indexLike = new WeakMap<readonly string[], boolean>();

const MAX_INDEX = 2 ** 32 - 2;
/** Entries sort as id · SLOTS + position: ids ≤ 2^32 − 2 and positions below 2^16 stay exact in a double. */
const SLOTS = 2 ** 16;

function allIndexLike(movieIds: readonly string[]): boolean {
  let ok = indexLike.get(movieIds);
  if (ok === undefined) {
    ok = movieIds.every((id) => /^(0|[1-9][0-9]{0,9})$/.test(id) && Number(id) <= MAX_INDEX);
    indexLike.set(movieIds, ok);
  }
  return ok;
}

/**
 * The stored reasons of each list (in order): movie → title of the item in `because` (`titles`, by item index;
 * an item without a title gives no reason), the list's fallback text otherwise. `movieIds` are the model's ids, which
 * every list's ids come from.
 */
export function encodeBatchReasons(movieIds: readonly string[], lists: readonly ListReasons[], titles: ReadonlyMap<number, string>): string[] {
  const out: string[] = new Array(lists.length);
  if (!allIndexLike(movieIds)) {
    for (let l = 0; l < lists.length; l++) {
      const r = lists[l];
      out[l] = encodeReasons(r.movieIds.map((m, k) => [m, r.because[k] >= 0 ? titles.get(r.because[k]) : undefined]), r.fallback);
    }
    return out;
  }
  let keys = new Float64Array(128);
  // Per list: the items named so far and the position of their title in `t` (a list names at most a few).
  const namedItems: number[] = [];
  const namedSlots: number[] = [];
  const t: string[] = [];
  const quotedTitles: string[] = [];
  const quoted = new Map<string, string>();
  for (let l = 0; l < lists.length; l++) {
    const { movieIds: ids, because, fallback } = lists[l];
    const n = ids.length;
    if (n >= SLOTS) {
      out[l] = encodeReasons(ids.map((m, k) => [m, because[k] >= 0 ? titles.get(because[k]) : undefined]), fallback);
      continue;
    }
    if (keys.length < n) keys = new Float64Array(n);
    namedItems.length = 0;
    namedSlots.length = 0;
    t.length = 0;
    quotedTitles.length = 0;
    let m = 0;
    for (let k = 0; k < n; k++) {
      const b = because[k];
      if (b < 0) continue;
      let slot = -1;
      for (let s = 0; s < namedItems.length; s++) {
        if (namedItems[s] === b) {
          slot = namedSlots[s];
          break;
        }
      }
      if (slot === -1) {
        const title = titles.get(b);
        if (title === undefined) continue;
        // Titles, not items, are named once: two liked movies may share a title.
        slot = t.indexOf(title);
        if (slot === -1) {
          slot = t.length;
          t.push(title);
          let q = quoted.get(title);
          if (q === undefined) quoted.set(title, (q = JSON.stringify(title)));
          quotedTitles.push(q);
        }
        namedItems.push(b);
        namedSlots.push(slot);
      }
      keys[m++] = Number(ids[k]) * SLOTS + k;
    }
    const sorted = keys.subarray(0, m).sort();
    let r = "";
    for (let e = 0; e < m; e++) {
      const id = Math.floor(sorted[e] / SLOTS);
      // The same id twice keeps its last title, as an object key assigned twice does.
      if (e + 1 < m && Math.floor(sorted[e + 1] / SLOTS) === id) continue;
      const k = sorted[e] - id * SLOTS;
      const slot = namedSlots[namedItems.indexOf(because[k])];
      r += r === "" ? `"${ids[k]}":${slot}` : `,"${ids[k]}":${slot}`;
    }
    out[l] = `{"t":[${quotedTitles.join(",")}],"r":{${r}}${fallback ? `,"d":${JSON.stringify(fallback)}` : ""}}`;
  }
  return out;
}
