/**
 * The cluster key layout, checked without a cluster: keys that one command, MULTI block, pipeline or Lua script uses
 * together hash to one slot (a cluster would refuse them with CROSSSLOT otherwise), and independent keys spread.
 * Slots are computed by `cluster-key-slot`, the function ioredis routes with, on the keys as sent (client prefix
 * included). `npm run test:redis-cluster` runs the whole suite against a real cluster.
 */
import { describe, expect, it } from "vitest";
import calculateSlot from "cluster-key-slot";
import { catalogKeys } from "../../src/modules/catalog/catalog-cache.ts";
import { loginKeys } from "../../src/modules/user/login-rate-limiter.ts";
import { CACHED_ALGORITHMS, listKey } from "../../src/modules/recommendation/serving-cache.ts";
import { QUEUE_NAMES, queuePrefix } from "../../src/platform/queues.ts";

const PREFIX = "movierec";
const CLUSTER = "redis+cluster://127.0.0.1:7000";
const slot = (key: string) => calculateSlot(`${PREFIX}:${key}`);
const slotsOf = (keys: readonly string[]) => new Set(keys.map(slot));
const ids = Array.from({ length: 200 }, (_, k) => String(k + 1));

describe("cluster key layout", () => {
  it("puts a catalogue scope's generation and its values in one slot (one Lua call reads both), movies apart", () => {
    for (const id of ["1", "42", "987654"]) {
      // VERSIONED_GET builds the value key in Lua: KEYS[2] .. ':' .. generation.
      expect(slotsOf([catalogKeys.movieGeneration(id), `${catalogKeys.movie(id)}:0`, `${catalogKeys.movie(id)}:17`]).size).toBe(1);
    }
    expect(slotsOf([catalogKeys.listsGeneration, `${catalogKeys.list("movies:all")}:3`, `${catalogKeys.list("genres")}:0`]).size).toBe(1);
    expect(slotsOf(ids.map(catalogKeys.movieGeneration)).size).toBeGreaterThan(150);
  });

  it("puts the four counters of a login attempt in one slot (RESERVE and SUCCEED are Lua over all four)", () => {
    expect(slotsOf(loginKeys("u42", "abc")).size).toBe(1);
    expect(slotsOf([...loginKeys("u42", "abc"), ...loginKeys("nffff", "none")]).size).toBe(1);
  });

  it("puts a user's cached lists in one slot (invalidateUser deletes them in one DEL), users apart", () => {
    for (const id of ids) expect(slotsOf(CACHED_ALGORITHMS.map((a) => listKey(id, a))).size).toBe(1);
    expect(slotsOf(ids.map((id) => listKey(id, "hybrid"))).size).toBeGreaterThan(150);
  });

  it("gives each BullMQ queue a slot of its own on a cluster, every key of the queue in it; one Redis keeps the names", () => {
    const queueSlots = QUEUE_NAMES.map((q) => {
      const p = queuePrefix(CLUSTER, PREFIX, q);
      // The shapes of BullMQ's keys: `${prefix}:${queue}:${type}` and `${prefix}:${queue}:${jobId}[:dependencies]`.
      const keys = ["wait", "active", "meta", "events", "id", "score-all-v1", "score-all-v1:dependencies", "score-range-v1-0:lock"].map((t) => `${p}:${q}:${t}`);
      const s = new Set(keys.map((k) => calculateSlot(k)));
      expect(s.size).toBe(1);
      return [...s][0];
    });
    expect(new Set(queueSlots).size).toBe(QUEUE_NAMES.length);
    for (const q of QUEUE_NAMES) expect(queuePrefix("redis://127.0.0.1:6379/0", PREFIX, q)).toBe(PREFIX);
  });
});
