import { createContextKey } from "@connectrpc/connect";
import { PermissionError, UnauthenticatedError } from "./errors.ts";

/**
 * Who is calling: put on the request context by the authentication interceptor, read by
 * handlers through `ctx.values.get(callerKey)`.
 */
export type Caller =
  | { readonly kind: "anonymous" }
  | { readonly kind: "user"; readonly userId: string; readonly isStaff: boolean; readonly sessionId?: string }
  | { readonly kind: "service"; readonly name: string; readonly scopes: readonly string[] };

export const ANONYMOUS: Caller = Object.freeze({ kind: "anonymous" });

export const callerKey = createContextKey<Caller>(ANONYMOUS, { description: "authenticated caller" });

/** The signed-in user, or UNAUTHENTICATED. */
export function requireUser(caller: Caller): { userId: string; isStaff: boolean } {
  if (caller.kind !== "user") throw new UnauthenticatedError("sign in to call this method");
  return caller;
}

/** A staff user, or PERMISSION_DENIED (UNAUTHENTICATED when nobody signed in). */
export function requireStaff(caller: Caller): { userId: string; isStaff: true } {
  const user = requireUser(caller);
  if (!user.isStaff) throw new PermissionError("staff only");
  return { userId: user.userId, isStaff: true };
}
