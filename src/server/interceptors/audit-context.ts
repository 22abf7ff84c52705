import type { Interceptor } from "@connectrpc/connect";
import { callerKey } from "../../platform/caller.ts";
import { remoteAddressKey } from "../../platform/remote-address.ts";
import { type AuditContext, runWithAuditContext } from "../../modules/audit/index.ts";
import { anonymizeIp } from "../../modules/user/index.ts";
import { requestIdKey } from "../context.ts";

/**
 * Sits inside authentication: makes the caller, the anonymised client address and the request id the audit context of
 * the handler, so audit rows written anywhere below name who acted (see modules/audit/audit-context.ts).
 */
export function auditContextInterceptor(): Interceptor {
  return (next) => async (req) => {
    const caller = req.contextValues.get(callerKey);
    const peer = req.contextValues.get(remoteAddressKey);
    const ctx: AuditContext = {
      actor:
        caller.kind === "user"
          ? { type: "user", userId: caller.userId }
          : caller.kind === "service"
            ? { type: "service", name: caller.name }
            : { type: "anonymous" },
      clientAddress: peer ? (anonymizeIp(peer) ?? null) : null,
      requestId: req.contextValues.get(requestIdKey) || null,
    };
    return runWithAuditContext(ctx, () => next(req));
  };
}
