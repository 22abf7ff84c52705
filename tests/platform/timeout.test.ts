/**
 * withTimeout's deadline measures the callee, not our event loop (platform/timeout.ts): a real Redis answer that
 * arrived while the loop was blocked past the deadline is still used; a Redis that really does not answer (paused
 * with CLIENT PAUSE on a connection of its own) still ends in the fallback at about the deadline.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createRedis } from "../../src/platform/redis.ts";
import { withTimeout } from "../../src/platform/timeout.ts";

const redis = createRedis(inject("redisUrl"), { keyPrefix: `test-timeout-${randomBytes(4).toString("hex")}:` });
beforeAll(async () => {
  if (redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
  await redis.set("k", "answer");
});
afterAll(() => redis.quit());

/** Keeps the event loop busy, as a saturated server's request handling does. */
function blockLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe("withTimeout", () => {
  it("uses an answer that arrived while the event loop was busy past the deadline", async () => {
    for (let k = 0; k < 5; k++) {
      const call = withTimeout(redis.get("k"), 50, "fallback");
      blockLoop(200); // Redis answers within a millisecond; the reply waits unread in the socket, the timer expires
      expect(await call).toBe("answer");
    }
  });

  it("still gives up on a callee that does not answer", async () => {
    const started = performance.now();
    expect(await withTimeout(new Promise<string>(() => {}), 50, "fallback")).toBe("fallback");
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });
});
