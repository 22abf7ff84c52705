/** Shared helpers of the notification tests: a module on a test server, templates, polling the log. */
import { randomBytes } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { createNotificationModule } from "../../src/modules/notification/index.ts";
import type { TemplateType } from "../../src/modules/notification/entities/index.ts";
import type { AppDeps } from "../../src/server/app-deps.ts";

export const uniq = () => randomBytes(5).toString("hex");

export type NotificationModule = ReturnType<typeof createNotificationModule>;

/**
 * A stored template of `type` with a unique name, inactive unless asked: tests share the database, and the digest
 * scheduler and alerts pick "the active template of a type", which must be the one their own test made.
 */
export async function makeTemplate(m: NotificationModule, type: TemplateType, parts: { subject?: string; html?: string; text: string; active?: boolean }) {
  return m.templates.create({
    name: `${type}-${uniq()}`,
    templateType: type,
    subject: parts.subject ?? "",
    htmlContent: parts.html ?? "",
    textContent: parts.text,
    isActive: parts.active ?? false,
  });
}

export type LogRow = Record<string, unknown> & { status: string; attempts: number; error_message: string; external_id: string | null };

export async function logRow(orm: MikroORM, id: string): Promise<LogRow> {
  const rows = await orm.em.fork().execute<LogRow[]>("select * from notification_logs where id = ?", [id]);
  return rows[0]!;
}

/** Polls until the log reaches `status` (or fails the test with what it has). */
export async function waitForStatus(orm: MikroORM, id: string, status: string, timeoutMs = 15_000): Promise<LogRow> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const row = await logRow(orm, id);
    if (row.status === status) return row;
    if (Date.now() > until) throw new Error(`notification ${id} is ${row.status} (${row.error_message}), not ${status}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function moduleFor(deps: AppDeps): NotificationModule {
  return createNotificationModule(deps);
}
