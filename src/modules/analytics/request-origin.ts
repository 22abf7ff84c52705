/**
 * Where an event came from: the user (from the caller), the client's address (anonymised as the user-service issue
 * decided: /24 or /48) and its user agent. An internal service holding `analytics.write` forwards events for its own
 * visitors, so it may supply their address and user agent in `x-client-ip` / `x-client-user-agent`; anyone else's
 * values come from the request itself (`X-Forwarded-For` only through trusted proxies).
 */
import type { Caller } from "../../platform/caller.ts";
import { anonymizeIp } from "../user/index.ts";
import { type ProxyTrust, clientAddress } from "./client-address.ts";
import type { RequestOrigin } from "./event-input.ts";

/** Stored when no address is known (`ip_address` is NOT NULL): the unspecified address, which no client has. */
export const UNKNOWN_ADDRESS = "0.0.0.0";
/** User agents are truncated to this many characters: longer ones are junk or attacks, and each is stored per event. */
export const MAX_USER_AGENT = 512;

/** The request details the origin is resolved from (plain strings: the RPC layer reads them from the call). */
export interface RequestFacts {
  readonly caller: Caller;
  /** TCP peer address. */
  readonly peer: string | undefined;
  readonly headers: {
    readonly forwardedFor: string | null;
    readonly userAgent: string | null;
    readonly clientIp: string | null;
    readonly clientUserAgent: string | null;
  };
}

function cleanUserAgent(ua: string | null): string {
  if (ua === null) return "";
  const clean = ua.includes("\0") ? ua.replaceAll("\0", "") : ua;
  return clean.length > MAX_USER_AGENT ? clean.slice(0, MAX_USER_AGENT) : clean;
}

/** Resolves who and where from a request (see the file comment). */
export function resolveOrigin(facts: RequestFacts, trust: ProxyTrust): RequestOrigin {
  const { caller, headers } = facts;
  const forwarding = caller.kind === "service" && caller.scopes.includes("analytics.write");
  const suppliedIp = forwarding && headers.clientIp !== null ? anonymizeIp(headers.clientIp) : undefined;
  const address = suppliedIp ?? anonymizeIp(clientAddress(facts.peer, headers.forwardedFor, trust) ?? "") ?? UNKNOWN_ADDRESS;
  const userAgent = forwarding && headers.clientUserAgent !== null ? headers.clientUserAgent : headers.userAgent;
  return { userId: caller.kind === "user" ? caller.userId : null, ipAddress: address, userAgent: cleanUserAgent(userAgent) };
}

/** Scope of batch keys: one caller's keys never collide with another's. */
export function callerScope(caller: Caller): string {
  if (caller.kind === "user") return `user:${caller.userId}`;
  if (caller.kind === "service") return `service:${caller.name}`;
  return "anonymous";
}
