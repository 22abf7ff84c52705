/**
 * A staff SendNotification through API A to every user of the run's genre (`recipients` users), delivered by both
 * worker processes into the local SMTP server: each recipient gets exactly one message — none missing, none twice —
 * and the same call repeated through API B (same idempotency key) queues nothing.
 */
import { randomBytes } from "node:crypto";
import { TemplateType } from "../../../gen/movierec/notification/v1/notification_pb.js";
import type { MikroORM } from "@mikro-orm/postgresql";
import { waitUntil } from "../../platform/wait-until.ts";
import { as, type Api } from "../api.ts";
import { check, msSince } from "../report.ts";
import type { SmtpSink } from "../smtp-sink.ts";

export interface BroadcastResult {
  recipients: number;
  /** From the SendNotification call to the last message accepted by the SMTP server. */
  deliveredMs: number;
  /** From the SendNotification call to its answer (outbox rows written, jobs queued). */
  queuedMs: number;
}

export async function broadcastOnce(a: Api, b: Api, staffToken: string, genreId: string, expected: readonly string[], smtp: SmtpSink, orm: MikroORM): Promise<BroadcastResult> {
  const { template } = await b.notification.createTemplate(
    { template: { name: `scale-${randomBytes(3).toString("hex")}`, templateType: TemplateType.EMAIL_RECOMMENDATION, subject: "For you, {{user.username}}", textContent: "{{note}}", isActive: true } },
    as(staffToken),
  );
  const before = smtp.total();
  const req = { filter: { favoriteGenreIds: [genreId] }, template: { case: "templateId" as const, value: template!.id }, data: { note: "scale broadcast" }, idempotencyKey: `scale-${randomBytes(4).toString("hex")}`, ignorePreferences: true };
  const t0 = performance.now();
  const sent = await a.notification.sendNotification(req, as(staffToken));
  const queuedMs = msSince(t0);
  check(sent.matchedUsers === expected.length && sent.queuedUsers === expected.length, `SendNotification on ${a.name}: matched ${sent.matchedUsers}, queued ${sent.queuedUsers}, expected ${expected.length} each`);
  await waitUntil(`${expected.length} emails accepted by the SMTP server`, async () => (smtp.total() - before >= expected.length ? true : undefined), 180_000, 50, () => `${smtp.total() - before} of ${expected.length} so far`);
  const deliveredMs = msSince(t0);
  // A duplicate would come from a second claim of a delivery: give late ones time to show, until the outbox says all sent.
  await waitUntil("every broadcast row marked sent", async () => {
    const [row] = await orm.em.fork().execute<{ n: number }[]>("select count(*)::int as n from notification_logs where request_key like ? and status <> 'sent'", [`%:${req.idempotencyKey}:%`]);
    return row!.n === 0 ? true : undefined;
  }, 60_000, 100);
  const again = await b.notification.sendNotification(req, as(staffToken));
  check(again.queuedUsers === 0 && again.duplicateUsers === expected.length, `SendNotification repeated on ${b.name} with the same key: queued ${again.queuedUsers}, duplicates ${again.duplicateUsers}, expected 0 and ${expected.length}`);
  await new Promise((r) => setTimeout(r, 2000));
  const missing = expected.filter((to) => (smtp.perRecipient.get(to) ?? 0) === 0);
  const twice = expected.filter((to) => (smtp.perRecipient.get(to) ?? 0) > 1);
  check(missing.length === 0, `${missing.length} of ${expected.length} recipients got no email (e.g. ${missing.slice(0, 3).join(", ")})`);
  check(twice.length === 0, `${twice.length} recipients got the broadcast more than once (e.g. ${twice.slice(0, 3).map((t) => `${t} ×${smtp.perRecipient.get(t)}`).join(", ")})`);
  check(smtp.total() - before === expected.length, `the SMTP server accepted ${smtp.total() - before} messages for ${expected.length} recipients`);
  return { recipients: expected.length, deliveredMs, queuedMs };
}
