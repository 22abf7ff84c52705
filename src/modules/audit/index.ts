/**
 * The audit trail: one `audit_log` row per sensitive change, written in the change's own transaction
 * (`recordAudit`), read by staff (`listAuditRows`), pruned after the configured retention (`pruneAuditLog`).
 */
export { type AuditActor, type AuditContext, currentAuditContext, runWithAuditContext } from "./audit-context.ts";
export { type AuditFilter, type AuditRow, listAuditRows, pruneAuditLog } from "./audit-query.ts";
export { type AuditEntry, auditedTransaction, recordAudit, sanitizeValues } from "./audit-writer.ts";
export { createAuditRpc } from "./audit.rpc.ts";
