/** Audit entities: the change trail. */
import { AuditLogSchema } from "./audit-log.entity.ts";

export { AUDIT_ACTOR_TYPES, AUDIT_OPERATIONS, AuditLog, AuditLogSchema, type AuditActorType, type AuditOperation } from "./audit-log.entity.ts";

/** The audit trail's entity schemas, for the ORM's `entities` option. */
export const auditEntities = [AuditLogSchema];
