/**
 * `audit_log`: who changed what. `userId` is a plain column, not a relation, so the trail survives deleting the user.
 */
import { defineEntity, p } from "@mikro-orm/core";

export const AUDIT_OPERATIONS = ["INSERT", "UPDATE", "DELETE"] as const;
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];

export const AuditLogSchema = defineEntity({
  name: "AuditLog",
  tableName: "audit_log",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    tableName: p.string().length(50),
    operation: p.enum(AUDIT_OPERATIONS).columnType("varchar(10)"),
    oldValues: p.json<Record<string, unknown>>().nullable(),
    newValues: p.json<Record<string, unknown>>().nullable(),
    userId: p.bigint("string").nullable(),
    timestamp: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class AuditLog extends AuditLogSchema.class {}
AuditLogSchema.setClass(AuditLog);
