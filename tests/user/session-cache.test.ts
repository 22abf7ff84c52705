/** The session-check cache on its own, with a fake clock: what it asks PostgreSQL, and when it must ask again. */
import { describe, expect, it } from "vitest";
import { createSessionCache, type SessionCheck } from "../../src/modules/user/session-cache.ts";

function harness(ttlMs = 1000) {
  let t = 0;
  const answers = new Map<string, SessionCheck>([["s1", { isStaff: false }]]);
  const loads: string[] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const cache = createSessionCache({
    ttlMs,
    now: () => t,
    load: async (sid, uid) => {
      loads.push(`${sid}:${uid}`);
      const answer = answers.get(sid);
      if (hold) await new Promise<void>((r) => (release = r));
      return answer;
    },
  });
  return {
    cache, loads, answers,
    advance: (ms: number) => (t += ms),
    holdLoads: (on: boolean) => (hold = on),
    release: () => release?.(),
  };
}

describe("session cache", () => {
  it("asks once per TTL, however many calls, and again after it", async () => {
    const h = harness();
    for (let i = 0; i < 100; i++) expect(await h.cache.get("s1", "u1")).toEqual({ isStaff: false });
    expect(h.loads).toHaveLength(1);
    h.advance(999);
    await h.cache.get("s1", "u1");
    expect(h.loads).toHaveLength(1);
    h.advance(1);
    await h.cache.get("s1", "u1");
    expect(h.loads).toHaveLength(2);
  });

  it("sees a revocation within the TTL of when its query was sent, and caches the refusal too", async () => {
    const h = harness();
    await h.cache.get("s1", "u1");
    h.answers.delete("s1"); // revoked in the database by another process
    h.advance(500);
    expect(await h.cache.get("s1", "u1")).toEqual({ isStaff: false }); // still trusted: 500 ms < 1 s
    h.advance(500);
    expect(await h.cache.get("s1", "u1")).toBeUndefined();
    h.advance(10);
    expect(await h.cache.get("s1", "u1")).toBeUndefined();
    expect(h.loads).toHaveLength(2);
  });

  it("concurrent misses share one query; an entry of another user id is not used", async () => {
    const h = harness();
    h.holdLoads(true);
    const all = Promise.all(Array.from({ length: 50 }, () => h.cache.get("s1", "u1")));
    await new Promise((r) => setTimeout(r, 0));
    h.release();
    expect((await all).every((r) => r?.isStaff === false)).toBe(true);
    expect(h.loads).toEqual(["s1:u1"]);
    h.holdLoads(false);
    await h.cache.get("s1", "u2"); // forged pairing of a session with another user: asked, not taken from the cache
    expect(h.loads).toEqual(["s1:u1", "s1:u2"]);
  });

  it("forget drops a user's entries at once, and a query sent before it stores nothing", async () => {
    const h = harness();
    await h.cache.get("s1", "u1");
    h.answers.delete("s1");
    h.cache.forget("u1");
    expect(await h.cache.get("s1", "u1")).toBeUndefined();
    // A check in flight while the session is revoked locally must not put the old answer back.
    h.answers.set("s1", { isStaff: false });
    h.advance(2000);
    h.holdLoads(true);
    const stale = h.cache.get("s1", "u1");
    await new Promise((r) => setTimeout(r, 0));
    h.answers.delete("s1");
    h.cache.forget("u1", "s1");
    h.release();
    expect(await stale).toEqual({ isStaff: false }); // its own caller raced the revocation
    h.holdLoads(false);
    expect(await h.cache.get("s1", "u1")).toBeUndefined(); // but nobody after it
  });

  it("a TTL of 0 asks every time", async () => {
    const h = harness(0);
    await h.cache.get("s1", "u1");
    await h.cache.get("s1", "u1");
    expect(h.loads).toHaveLength(2);
    expect(h.cache.size).toBe(0);
  });
});
