/**
 * Exactly once as the user sees it: a worker process is SIGKILLed in the middle of a batch, with messages on the
 * wire that the SMTP server has not yet accepted; two fresh workers then race over what is left. Every notification
 * must reach the SMTP server exactly once: none lost (the dead worker's claims expire and the sweeper re-enqueues
 * them), none twice (the claim is one conditional UPDATE; finished rows are never claimed again).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser } from "../auth/test-users.ts";
import { startLocalSmtp, type LocalSmtp } from "./local-providers.ts";
import { makeTemplate, moduleFor, uniq, type NotificationModule } from "./helpers.ts";

const N = 40;
let ts: TestServer;
let smtp: LocalSmtp;
let m: NotificationModule;
let env: Record<string, string>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  smtp = await startLocalSmtp();
  env = {
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATABASE_URL: inject("databaseUrl"),
    REDIS_URL: inject("redisUrl"),
    REDIS_PREFIX: `${inject("redisPrefix")}n6crash`,
    DB_POOL_MAX: "4",
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(smtp.port),
    SMTP_TIMEOUT_MS: "700",
    // Short enough for a test: a dead worker's claim is taken over 1.5 s after it was made.
    DELIVERY_LEASE_MS: "1500",
    DELIVERY_SWEEP_MS: "300",
    DIGEST_TICK_MS: "3600000",
  };
  ts = await startTestServer({ env });
  m = moduleFor(ts.deps);
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await ts?.close();
  await smtp?.close();
});

function startWorkerProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [fileURLToPath(new URL("./worker-child.ts", import.meta.url))], { env: { ...env, PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve(child));
    child.once("exit", (code) => reject(new Error(`worker exited early (${code})`)));
  });
}

const exited = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once("exit", () => resolve())));

describe("a worker killed mid-batch", () => {
  it("delivers every notification exactly once", async () => {
    const user = await createTestUser(ts.deps);
    const template = await makeTemplate(m, "email_recommendation", { subject: "Pick {{n}}", text: "number {{n}}" });

    // The server accepts 8 messages slowly, then holds its replies: the worker dies with messages on the wire.
    let killWorker: () => void = () => {};
    let killed!: () => void;
    const afterKill = new Promise<void>((r) => (killed = r));
    let accepted = 0;
    smtp.beforeAccept = async () => {
      await new Promise((r) => setTimeout(r, 25));
      if (accepted < 8) {
        accepted++;
        return "accept";
      }
      killWorker();
      await afterKill;
      return "drop"; // never answered 250: not received, as with a real relay whose client vanished
    };

    const batch = uniq();
    const requests = Array.from({ length: N }, (_, n) => ({ idempotencyKey: `crash-${batch}-${n}`, userId: user.userId, kind: "manual" as const, template, data: { n } }));
    const results = await m.outbox.queue(requests);
    const ids = requests.map((r) => results.get(r.idempotencyKey)!.logs[0]!.id);

    const first = await startWorkerProcess();
    await new Promise<void>((resolve) => {
      let once = false;
      killWorker = () => {
        if (once) return;
        once = true;
        // Kill once the accepted messages are recorded: what stays ambiguous by nature (accepted by the relay, the
        // worker dead before its UPDATE) is the window the deterministic Message-ID covers, not what this test counts.
        void (async () => {
          const acceptedIds = smtp.received.map((r) => r.notificationId).filter((id) => ids.includes(id));
          for (let i = 0; i < 100; i++) {
            const rows = await ts.orm.em.fork().execute<{ n: number }[]>("select count(*)::int as n from notification_logs where id = any(?::bigint[]) and status = 'sent'", [`{${acceptedIds.join(",")}}`]);
            if (rows[0]!.n === acceptedIds.length) break;
            await new Promise((r) => setTimeout(r, 10));
          }
          if (first.exitCode === null && first.signalCode === null) first.kill("SIGKILL");
          resolve();
        })();
      };
    });
    await exited(first);
    killed();
    expect(first.signalCode).toBe("SIGKILL");
    const mid = await ts.orm.em.fork().execute<{ status: string; claimed: boolean }[]>(
      "select status, claim_token is not null as claimed from notification_logs where id = any(?::bigint[])",
      [`{${ids.join(",")}}`],
    );
    // Killed mid-batch: some sent, some claimed by the dead worker, the rest not yet started.
    expect(mid.filter((r) => r.status === "sent").length).toBe(8);
    expect(mid.filter((r) => r.status === "pending" && r.claimed).length).toBeGreaterThan(0);

    // Two new workers race over the rest.
    smtp.beforeAccept = async () => "accept";
    const [second, third] = await Promise.all([startWorkerProcess(), startWorkerProcess()]);
    const until = Date.now() + 30_000;
    for (;;) {
      const rows = await ts.orm.em.fork().execute<{ n: number }[]>(
        "select count(*)::int as n from notification_logs where id = any(?::bigint[]) and status = 'sent'",
        [`{${ids.join(",")}}`],
      );
      if (rows[0]!.n === N) break;
      if (Date.now() > until) throw new Error(`only ${rows[0]!.n} of ${N} sent`);
      await new Promise((r) => setTimeout(r, 100));
    }
    second.kill("SIGTERM");
    third.kill("SIGTERM");
    await Promise.all([exited(second), exited(third)]);

    const mine = smtp.received.filter((r) => ids.includes(r.notificationId));
    const counts = new Map<string, number>();
    for (const r of mine) counts.set(r.notificationId, (counts.get(r.notificationId) ?? 0) + 1);
    expect(mine.length).toBe(N);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(new Set(counts.keys())).toEqual(new Set(ids));
  });
});
