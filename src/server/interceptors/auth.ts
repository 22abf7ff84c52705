import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { ANONYMOUS, type Caller, callerKey } from "../../platform/caller.ts";
import type { Logger } from "../../platform/logger.ts";
import type { Authenticate } from "../../modules/user/index.ts";
import { type AuthRule, authRuleFor } from "../auth-rules.ts";
import { requestLoggerKey } from "../context.ts";
import { peerCallerKey } from "../peer-identity.ts";

const BEARER = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i;

/** Why `caller` may not call a method with `rule`, as a gRPC code; undefined when allowed. */
export function denial(rule: AuthRule, caller: Caller): Code | undefined {
  if (rule.access === "public") return undefined;
  if (caller.kind === "anonymous") return Code.Unauthenticated;
  if (caller.kind === "service") return rule.scope !== undefined && caller.scopes.includes(rule.scope) ? undefined : Code.PermissionDenied;
  if (rule.access === "staff" && !caller.isStaff) return Code.PermissionDenied;
  return undefined;
}

/**
 * Authentication and authorisation for every protocol: reads `authorization: Bearer …` (gRPC metadata and HTTP
 * headers are the same thing here) or the client certificate's service identity, resolves the caller, applies the method's rule from auth-rules.ts, and puts the
 * caller on the context (`callerKey`) for the handlers. Sits after the access log (so refusals are logged with their
 * code) and before validation (so anonymous callers learn nothing about request shapes). It throws ConnectErrors
 * itself: the error-mapping interceptor is inside it.
 */
export function authInterceptor(authenticate: Authenticate, rootLog: Logger): Interceptor {
  return (next) => async (req) => {
    const rule = authRuleFor(req.service.typeName, req.method.name);
    if (!rule) throw new ConnectError("method has no authorization rule", Code.PermissionDenied);
    const header = req.header.get("authorization");
    // A verified client certificate (mutual TLS) identifies an internal service; a bearer token, when sent, wins.
    let caller: Caller = req.contextValues.get(peerCallerKey) ?? ANONYMOUS;
    if (header !== null && header !== "") {
      const token = BEARER.exec(header)?.[1];
      let resolved: Caller | undefined;
      if (token !== undefined) {
        try {
          resolved = await authenticate(token);
        } catch (e) {
          (req.contextValues.get(requestLoggerKey) ?? rootLog).error({ err: e }, "authentication failed unexpectedly");
          throw new ConnectError("authentication is unavailable, try again", Code.Unavailable);
        }
      }
      // On public methods a stale token is ignored (the caller is anonymous), so a client holding one can still log in.
      if (resolved) caller = resolved;
      else if (rule.access !== "public") throw new ConnectError("access token is missing, invalid or expired", Code.Unauthenticated);
    }
    const code = denial(rule, caller);
    if (code === Code.Unauthenticated) throw new ConnectError("sign in to call this method", code);
    if (code !== undefined) throw new ConnectError(rule.access === "staff" ? "staff only" : "not allowed for this caller", code);
    req.contextValues.set(callerKey, caller);
    return next(req);
  };
}
