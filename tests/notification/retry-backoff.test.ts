/**
 * "Temporary failures retry with backoff and jitter" (README "Notifications", review of 2026-11-30, item 22), measured
 * at a real SMTP server: eight emails are refused with 451 at their first and second attempts and accepted at the
 * third, through the real outbox, the real `delivery` BullMQ worker and the queue's real options (exponential from
 * 1 s, jitter 0.5). A retry never comes before half its delay (≥ 0.5 s, then ≥ 1 s: exponential), and jitter shows:
 * without it no first retry could come before the full 1 s.
 */
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { createLogger } from "../../src/platform/logger.ts";
import { startWorkers, type RunningWorkers } from "../../src/worker/workers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser } from "../auth/test-users.ts";
import { startLocalSmtp, type LocalSmtp } from "./local-providers.ts";
import { makeTemplate, moduleFor, uniq, waitForStatus, type NotificationModule } from "./helpers.ts";

let ts: TestServer;
let smtp: LocalSmtp;
let m: NotificationModule;
let workers: RunningWorkers;

beforeAll(async () => {
  smtp = await startLocalSmtp();
  const prefix = `${inject("redisPrefix")}n22bo${uniq()}`;
  ts = await startTestServer({ env: { REDIS_PREFIX: prefix, SMTP_HOST: "127.0.0.1", SMTP_PORT: String(smtp.port), SMTP_TIMEOUT_MS: "5000", DELIVERY_LEASE_MS: "10000" } });
  m = moduleFor(ts.deps);
  workers = startWorkers({ redisUrl: ts.deps.config.redisUrl, prefix, log: createLogger({ level: "silent" }), processors: { delivery: m.processors }, concurrency: 8 });
});
afterAll(async () => {
  await workers?.close();
  m?.close();
  await ts?.close();
  await smtp?.close();
});

describe("delivery retries", () => {
  it("back off exponentially from 1 s with jitter: never before half the delay, and not all at the full delay", { timeout: 90_000 }, async () => {
    const users = await Promise.all(Array.from({ length: 8 }, () => createTestUser(ts.deps, { prefix: "backoff" })));
    const emails = new Set(users.map((u) => u.email));
    const attempts = new Map<string, number[]>();
    smtp.rule = (rcpt, attempt) => {
      if (!emails.has(rcpt)) return undefined;
      attempts.set(rcpt, [...(attempts.get(rcpt) ?? []), performance.now()]);
      return attempt <= 2 ? { code: 451, message: "4.3.0 try again later" } : undefined;
    };
    const template = await makeTemplate(m, "email_recommendation", { subject: "Backoff", text: "a pick" });
    const keys = users.map(() => `backoff-${uniq()}`);
    const res = await m.outbox.queue(users.map((u, k) => ({ idempotencyKey: keys[k]!, userId: u.userId, kind: "manual" as const, template, data: {} })));
    for (const key of keys) {
      const row = await waitForStatus(ts.orm, res.get(key)!.logs[0]!.id, "sent", 60_000);
      expect(row.attempts).toBe(3);
    }
    const first: number[] = [];
    const second: number[] = [];
    for (const email of emails) {
      const times = attempts.get(email)!;
      expect(times, email).toHaveLength(3);
      first.push(times[1]! - times[0]!);
      second.push(times[2]! - times[1]!);
    }
    const show = `first retries after ${first.map((g) => g.toFixed(0)).join(", ")} ms; second after ${second.map((g) => g.toFixed(0)).join(", ")} ms`;
    // Delay 1 s then 2 s, each shortened by up to half by the jitter (BullMQ never runs a delayed job early).
    for (const g of first) expect(g, show).toBeGreaterThanOrEqual(480);
    for (const g of second) expect(g, show).toBeGreaterThanOrEqual(980);
    // Jitter: at least one first retry came before the un-jittered 1 s (all eight at ≥ 0.95 s has odds of 1e-8).
    expect(Math.min(...first), show).toBeLessThan(950);
  });
});
