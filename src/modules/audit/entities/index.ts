/** Audit entities: the change trail. */
import { AuditLogSchema } from "./audit-log.entity.ts";

export { AUDIT_OPERATIONS, AuditLog, AuditLogSchema, type AuditOperation } from "./audit-log.entity.ts";

/** The audit trail's entity schemas, for the ORM's `entities` option. */
export const auditEntities = [AuditLogSchema];
