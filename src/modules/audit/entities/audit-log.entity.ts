/**
 * `audit_log`: who changed what. `userId` (the acting user) is a plain column, not a relation, so the trail survives
 * deleting the user. Migration 0014 adds the action, the changed record's id, the actor, the anonymised client address
 * and the request id.
 */
import { defineEntity, p } from "@mikro-orm/core";

export const AUDIT_OPERATIONS = ["INSERT", "UPDATE", "DELETE", "READ"] as const;
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];
export const AUDIT_ACTOR_TYPES = ["user", "service", "anonymous", "system"] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

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
    /** What happened, `<noun>.<verb>` (e.g. `user.register`, `session.token_reuse`). */
    action: p.string().length(64).nullable(),
    /** Id of the changed row of `tableName`. */
    recordId: p.string().length(64).nullable(),
    actorType: p.enum(AUDIT_ACTOR_TYPES).columnType("varchar(10)").nullable(),
    /** Service token name or job name (users are in `userId`). */
    actorName: p.string().length(100).nullable(),
    /** Anonymised (IPv4 /24, IPv6 /48). */
    clientAddress: p.string().length(45).nullable(),
    requestId: p.string().length(128).nullable(),
  },
});

export class AuditLog extends AuditLogSchema.class {}
AuditLogSchema.setClass(AuditLog);
