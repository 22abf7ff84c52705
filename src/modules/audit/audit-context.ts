/**
 * Who is acting and from where, for audit rows. The server's audit interceptor puts it in place for each RPC (from
 * the caller, the anonymised client address and the request id); jobs run without one and are recorded as `system`.
 *
 * Why AsyncLocalStorage and not a Connect context value: audit rows are written deep inside domain code (the
 * transaction of a password change, a refresh-token rotation), which receives no HandlerContext and should not grow a
 * parameter in every signature just to pass it down. The store holds the same request-scoped values, set by one
 * interceptor from the context, and nothing else reads it.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { AuditActorType } from "./entities/index.ts";

export interface AuditActor {
  readonly type: AuditActorType;
  /** The acting user (`type` user). */
  readonly userId?: string | null;
  /** Service token name, or job name for `system`. */
  readonly name?: string | null;
}

export interface AuditContext {
  readonly actor: AuditActor;
  /** Already anonymised (IPv4 /24, IPv6 /48). */
  readonly clientAddress: string | null;
  readonly requestId: string | null;
}

const storage = new AsyncLocalStorage<AuditContext>();

/** Runs `fn` with `ctx` as the audit context of everything it awaits. */
export function runWithAuditContext<T>(ctx: AuditContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** The context of the current RPC; undefined in jobs and scripts. */
export function currentAuditContext(): AuditContext | undefined {
  return storage.getStore();
}
