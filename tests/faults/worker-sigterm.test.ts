/**
 * README "Running the parts": on SIGTERM, workers finish their running jobs first (review of 2026-11-30, item 4, the
 * worker half; the server half is sigterm-under-load.test.ts). A real worker process (`node src/main.ts worker`)
 * receives SIGTERM while it is in the middle of sending an email (the local SMTP server holds its reply): the send
 * completes, the notification is recorded sent once, the process exits 0, and the notifications it had not started
 * stay pending for the next worker, which sends each once.
 */
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { startTestServer, type TestServer } from "../support/server.ts";
import type { TestDatabase } from "../support/database.ts";
import { createTestUser } from "../auth/test-users.ts";
import { startLocalSmtp, type LocalSmtp } from "../notification/local-providers.ts";
import { makeTemplate, moduleFor, uniq, type NotificationModule } from "../notification/helpers.ts";
import { exited, startWorkerProcess, type WorkerProcess } from "../../src/platform/dev-infra-role-process.ts";
import { createMigratedDatabase, waitUntil } from "./support/own-database.ts";

let db: TestDatabase;
let smtp: LocalSmtp;
let ts: TestServer;
let m: NotificationModule;
let env: Record<string, string>;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  [db, smtp] = await Promise.all([createMigratedDatabase(), startLocalSmtp()]);
  env = {
    NODE_ENV: "test",
    DATABASE_URL: db.url,
    REDIS_URL: inject("redisUrl"),
    REDIS_PREFIX: `${inject("redisPrefix")}wterm${uniq()}`,
    DB_POOL_MAX: "4",
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(smtp.port),
    SMTP_TIMEOUT_MS: "20000",
    DELIVERY_SWEEP_MS: "500",
    DIGEST_TICK_MS: "3600000",
  };
  ts = await startTestServer({ env });
  m = moduleFor(ts.deps);
}, 120_000);
afterAll(async () => {
  for (const w of workers) await w.kill("SIGKILL");
  await ts?.close();
  await smtp?.close();
  await db?.drop();
});

const statuses = async (ids: string[]) =>
  ts.orm.em
    .fork()
    .execute<{ id: string; status: string }[]>("select id::text as id, status from notification_logs where id = any(?::bigint[]) order by id", [`{${ids.join(",")}}`]);

describe("worker SIGTERM", () => {
  it("finishes the send in progress, exits 0, and leaves the rest for the next worker", { timeout: 120_000 }, async () => {
    const user = await createTestUser(ts.deps);
    const template = await makeTemplate(m, "email_recommendation", { subject: "term {{n}}", text: "number {{n}}" });
    const batch = uniq();
    const first = startWorkerProcess(env);
    workers.push(first);
    await first.waitForLog((l) => l.msg === "workers started", 60_000);

    let heldId = "";
    let releasedAt = 0;
    smtp.beforeAccept = async (mail) => {
      if (heldId === "") {
        // The first message on the wire: SIGTERM the worker now, and answer 250 only 1.5 s later.
        heldId = mail.notificationId;
        first.child.kill("SIGTERM");
        await new Promise((r) => setTimeout(r, 1_500));
        releasedAt = Date.now();
      }
      return "accept";
    };
    const requests = Array.from({ length: 5 }, (_, k) => ({ idempotencyKey: `term-${batch}-${k}`, userId: user.userId, kind: "manual" as const, template, data: { n: k } }));
    const results = await m.outbox.queue(requests);
    const ids = requests.map((r) => results.get(r.idempotencyKey)!.logs[0]!.id);

    await Promise.race([exited(first.child), new Promise((_, reject) => setTimeout(() => reject(new Error("worker did not exit within 60 s of SIGTERM")), 60_000))]);
    expect(first.child.exitCode, first.lines.slice(-10).map((l) => JSON.stringify(l)).join("\n")).toBe(0);
    // It waited for the held reply (exited after it), and recorded that send.
    expect(releasedAt).toBeGreaterThan(0);
    const afterFirst = await statuses(ids);
    expect(afterFirst.find((r) => r.id === heldId)?.status).toBe("sent");
    // Nothing lost or failed: each is sent, or still pending for another worker.
    for (const r of afterFirst) expect(["sent", "pending"]).toContain(r.status);

    const second = startWorkerProcess(env);
    workers.push(second);
    await waitUntil(
      "all five sent by the next worker",
      async () => ((await statuses(ids)).every((r) => r.status === "sent") ? true : undefined),
      60_000,
      100,
      async () => JSON.stringify(await statuses(ids)),
    );
    // Each sent once: the message finished during shutdown was not sent again.
    const received = smtp.received.filter((r) => ids.includes(r.notificationId));
    expect(received.map((r) => r.notificationId).sort()).toEqual([...ids].sort());
    // The first worker may have sent all five itself: the second can still be starting, before its SIGTERM handler.
    await second.waitForLog((l) => l.msg === "workers started", 60_000);
    await second.kill("SIGTERM");
    expect(second.child.exitCode).toBe(0);
  });
});
