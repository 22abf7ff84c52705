/**
 * Writes one `audit_log` row inside the caller's transaction, so the row exists exactly when the change does: a change
 * that rolls back leaves no row, and a row that cannot be written rolls the change back.
 *
 * Before/after values carry the changed fields only, never secrets or personal data beyond ids: keys that name a
 * password, token, secret, hash, e-mail, phone, name, birth date, address or user agent are dropped here, whatever
 * the caller passed, as a last line of defence.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { type AuditActor, currentAuditContext } from "./audit-context.ts";
import type { AuditOperation } from "./entities/index.ts";

export interface AuditEntry {
  /** `<noun>.<verb>`, e.g. `user.register`, `movie.update`, `experiment.stop`. */
  readonly action: string;
  /** The changed table (or the resource, for actions that change no row: `users` for an export). */
  readonly table: string;
  readonly operation: AuditOperation;
  readonly recordId?: string | null;
  readonly before?: Record<string, unknown> | null;
  readonly after?: Record<string, unknown> | null;
  /** Overrides the context's actor (jobs, or a request acting on behalf of someone). */
  readonly actor?: AuditActor;
}

const FORBIDDEN = /pass(word)?|token|secret|hash|e_?mail|phone|first_?name|last_?name|birth|address|^ip$|user_?agent|salt/i;

/** Drops forbidden keys (recursively in nested objects); returns null for nothing. */
export function sanitizeValues(values: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
  if (!values) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    if (FORBIDDEN.test(k) || v === undefined) continue;
    out[k] = v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date) ? sanitizeValues(v as Record<string, unknown>) : v;
  }
  return out;
}

/** Inserts the row with `em`, which must be the transaction of the change; returns the row's id. */
export async function recordAudit(em: EntityManager, entry: AuditEntry): Promise<string> {
  const ctx = currentAuditContext();
  const actor: AuditActor = entry.actor ?? ctx?.actor ?? { type: "system" };
  const rows = await em.execute<{ id: string }[]>(
    `insert into audit_log (table_name, operation, old_values, new_values, user_id, action, record_id, actor_type, actor_name, client_address, request_id)
     values (?, ?, ?::jsonb, ?::jsonb, ?, ?, ?, ?, ?, ?, ?) returning id::text as id`,
    [
      entry.table.slice(0, 50),
      entry.operation,
      jsonOrNull(sanitizeValues(entry.before)),
      jsonOrNull(sanitizeValues(entry.after)),
      actor.type === "user" ? (actor.userId ?? null) : null,
      entry.action.slice(0, 64),
      entry.recordId ?? null,
      actor.type,
      actor.type === "user" ? null : (actor.name ?? null)?.slice(0, 100) ?? null,
      entry.actor ? null : (ctx?.clientAddress ?? null),
      ctx?.requestId ? ctx.requestId.slice(0, 128) : null,
    ],
  );
  return rows[0]!.id;
}

const jsonOrNull = (v: Record<string, unknown> | null) => (v === null ? null : JSON.stringify(v));

/** Runs `change` and its audit row in one transaction (for changes that are not in one yet). */
export async function auditedTransaction<T>(
  em: EntityManager,
  change: (tx: EntityManager) => Promise<T>,
  entry: (result: T) => AuditEntry | null,
): Promise<T> {
  return em.transactional(async (tx) => {
    const result = await change(tx);
    const e = entry(result);
    if (e) await recordAudit(tx, e);
    return result;
  });
}
