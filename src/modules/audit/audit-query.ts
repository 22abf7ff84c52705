/** Reading the audit trail (staff): filters, newest first, opaque keyset page tokens; and retention. */
import type { EntityManager } from "@mikro-orm/postgresql";
import { InvalidInputError } from "../../platform/errors.ts";
import type { AuditActorType, AuditOperation } from "./entities/index.ts";

export interface AuditRow {
  id: string;
  timestamp: Date;
  action: string;
  tableName: string;
  operation: AuditOperation;
  recordId: string;
  actorType: AuditActorType | "";
  actorUserId: string;
  actorName: string;
  clientAddress: string;
  requestId: string;
  oldValues: Record<string, unknown> | null;
  newValues: Record<string, unknown> | null;
}

export interface AuditFilter {
  action?: string;
  tableName?: string;
  recordId?: string;
  actorUserId?: string;
  since?: Date;
  until?: Date;
}

const encode = (t: string, id: string) => Buffer.from(JSON.stringify([t, id])).toString("base64url");
function decode(token: string): [string, string] | undefined {
  if (token === "") return undefined;
  try {
    const k = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(k) && k.length === 2 && typeof k[0] === "string" && !Number.isNaN(Date.parse(k[0])) && /^\d{1,19}$/.test(String(k[1]))) {
      return [k[0], String(k[1])];
    }
  } catch {
    // falls through
  }
  throw new InvalidInputError("invalid page token", "page_token");
}

type Raw = Record<string, unknown>;
const str = (v: unknown) => (v === null || v === undefined ? "" : String(v));

/** One page of rows matching `filter`, newest first; `nextPageToken` is empty on the last page. */
export async function listAuditRows(
  em: EntityManager,
  filter: AuditFilter,
  page: { pageSize: number; pageToken: string },
): Promise<{ rows: AuditRow[]; nextPageToken: string }> {
  const size = page.pageSize <= 0 ? 50 : Math.min(page.pageSize, 500);
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.action) (where.push("action = ?"), params.push(filter.action));
  if (filter.tableName) (where.push("table_name = ?"), params.push(filter.tableName));
  if (filter.recordId) (where.push("record_id = ?"), params.push(filter.recordId));
  if (filter.actorUserId) (where.push("user_id = ?::bigint"), params.push(filter.actorUserId));
  if (filter.since) (where.push('"timestamp" >= ?'), params.push(filter.since));
  if (filter.until) (where.push('"timestamp" < ?'), params.push(filter.until));
  const after = decode(page.pageToken);
  if (after) (where.push('("timestamp", id) < (?::timestamptz, ?::bigint)'), params.push(after[0], after[1]));
  const raw = await em.execute<Raw[]>(
    `select id::text as id, "timestamp", to_char("timestamp" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ts_key,
            action, table_name, operation, record_id, actor_type, user_id::text as user_id, actor_name, client_address, request_id,
            old_values, new_values
       from audit_log ${where.length ? `where ${where.join(" and ")}` : ""}
      order by "timestamp" desc, id desc limit ?`,
    [...params, size + 1],
  );
  const rows = raw.slice(0, size).map(
    (r): AuditRow => ({
      id: str(r.id),
      timestamp: new Date(r.timestamp as string),
      action: str(r.action),
      tableName: str(r.table_name),
      operation: r.operation as AuditOperation,
      recordId: str(r.record_id),
      actorType: (r.actor_type as AuditActorType | null) ?? "",
      actorUserId: str(r.user_id),
      actorName: str(r.actor_name),
      clientAddress: str(r.client_address),
      requestId: str(r.request_id),
      oldValues: (r.old_values as Record<string, unknown> | null) ?? null,
      newValues: (r.new_values as Record<string, unknown> | null) ?? null,
    }),
  );
  const last = raw[size - 1];
  return { rows, nextPageToken: raw.length > size && last ? encode(str(last.ts_key), str(last.id)) : "" };
}

/** Deletes rows older than `retentionDays`, in batches (no long lock on a big table); returns how many. */
export async function pruneAuditLog(em: EntityManager, retentionDays: number, batch = 10_000): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await em.execute<{ n: number }[]>(
      `with doomed as (select id from audit_log where "timestamp" < now() - make_interval(days => ?) limit ?)
       , gone as (delete from audit_log a using doomed d where a.id = d.id returning 1)
       select count(*)::int as n from gone`,
      [retentionDays, batch],
    );
    const n = Number(rows[0]?.n ?? 0);
    total += n;
    if (n < batch) return total;
  }
}
