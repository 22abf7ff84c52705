// Benches and the evaluation clean up their own run's keys with unlinkKeysUnder: everything under the run's prefix
// goes, through a client with that keyPrefix or without one, and nothing of another prefix sharing its start.
import { afterAll, describe, expect, inject, it } from "vitest";
import type { Redis } from "ioredis";
import { scanKeys, unlinkKeysUnder } from "../../src/platform/redis.ts";
import { openTestRedis } from "../support/redis.ts";

const run = `${inject("redisPrefix")}unlink${process.pid}`;
const clients: Redis[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});

describe("unlinkKeysUnder", () => {
  it("deletes the prefix's keys (more than one batch) through a prefixed and a plain client, and nothing else", async () => {
    const plain = await openTestRedis("");
    const prefixed = await openTestRedis(`${run}a:`);
    clients.push(plain, prefixed);
    for (let k = 0; k < 1100; k++) await prefixed.set(`rec:reasons:${k}`, "x");
    await plain.set(`${run}b:keep`, "y");
    await plain.set(`${run}ab:keep`, "y"); // shares the start of the prefix, not the prefix
    expect(await unlinkKeysUnder(prefixed, `${run}a`)).toBe(1100);
    expect(await scanKeys(plain, `${run}a:*`)).toEqual([]);
    await plain.set(`${run}c:1`, "z");
    expect(await unlinkKeysUnder(plain, `${run}c`)).toBe(1);
    expect((await scanKeys(plain, `${run}*`)).sort()).toEqual([`${run}ab:keep`, `${run}b:keep`]);
    await plain.del(`${run}ab:keep`, `${run}b:keep`);
  });
});
