/** LocalCache: how long a copy is trusted, and that an invalidation beats a fill that was already in flight. */
import { describe, expect, it } from "vitest";
import { deepFreeze, LocalCache } from "../../src/platform/local-cache.ts";

function cache(ttlMs: number, maxGroups?: number) {
  let now = 1000;
  const c = new LocalCache<string>({ ttlMs, maxGroups, now: () => now });
  return { c, advance: (ms: number) => (now += ms) };
}

describe("LocalCache", () => {
  it("trusts a value for ttlMs from when its read was sent, not from when it was stored", () => {
    const { c, advance } = cache(1000);
    const ticket = c.ticket();
    advance(400); // the read took 400 ms
    c.set("m1", "", "v1", ticket);
    advance(599);
    expect(c.get("m1")).toBe("v1");
    advance(1);
    expect(c.get("m1")).toBeUndefined();
  });

  it("does not store a fill that started before an invalidation", () => {
    const { c } = cache(1000);
    const before = c.ticket();
    c.invalidate(["other"]);
    c.set("m1", "", "stale", before);
    expect(c.get("m1")).toBeUndefined();
    c.set("m1", "", "fresh", c.ticket());
    expect(c.get("m1")).toBe("fresh");
  });

  it("drops whole groups, or everything, and keeps at most maxGroups", () => {
    const { c } = cache(1000, 2);
    c.set("u1", "hybrid", "a", c.ticket());
    c.set("u1", "trending", "b", c.ticket());
    c.set("u2", "hybrid", "c", c.ticket());
    c.invalidate(["u1"]);
    expect([c.get("u1", "hybrid"), c.get("u1", "trending"), c.get("u2", "hybrid")]).toEqual([undefined, undefined, "c"]);
    c.set("u3", "hybrid", "d", c.ticket());
    c.set("u4", "hybrid", "e", c.ticket());
    expect(c.size).toBe(2);
    expect(c.get("u2", "hybrid")).toBeUndefined(); // the oldest group went first
    c.invalidate();
    expect(c.size).toBe(0);
  });

  it("stores nothing when ttlMs is 0", () => {
    const { c } = cache(0);
    c.set("m1", "", "v", c.ticket());
    expect(c.get("m1")).toBeUndefined();
  });

  it("deepFreeze makes a shared JSON value read-only all the way down", () => {
    const v = deepFreeze({ movie: { title: "x", genres: [{ id: "1" }] } });
    expect(() => {
      (v.movie.genres[0] as { id: string }).id = "2";
    }).toThrow(TypeError);
  });
});
