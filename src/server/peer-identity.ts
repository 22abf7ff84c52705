import type { TLSSocket } from "node:tls";
import { createContextKey } from "@connectrpc/connect";
import type { Caller } from "../platform/caller.ts";
import type { ServiceCertificate } from "../platform/config.ts";

/**
 * The internal service a request's verified client certificate stands for (mutual TLS), or undefined. The auth
 * interceptor uses it when the request carries no bearer token, with the same rule table as service tokens.
 */
export const peerCallerKey = createContextKey<Caller | undefined>(undefined, { description: "client certificate identity" });

const bySocket = new WeakMap<object, Caller | null>();

/** SAN URIs of a certificate, from Node's `subjectaltname` string ("DNS:a, URI:spiffe://x/y"). */
function sanUris(subjectAltName: string | undefined): string[] {
  return (subjectAltName ?? "")
    .split(", ")
    .filter((s) => s.startsWith("URI:"))
    .map((s) => s.slice(4).replace(/^"(.*)"$/, "$1"));
}

/**
 * Maps the client certificate of `socket` to a service caller: only a certificate the server verified against
 * TLS_CLIENT_CA_FILE counts, matched by SAN URI or subject CN as SERVICE_CERTS says. Cached per socket object
 * (pass the HTTP/2 session's socket, which is one object per connection, rather than a stream's).
 */
export function certificateCaller(socket: unknown, serviceCerts: readonly ServiceCertificate[]): Caller | undefined {
  const tls = socket as Partial<TLSSocket> | undefined;
  if (serviceCerts.length === 0 || !tls || typeof tls.getPeerCertificate !== "function" || tls.authorized !== true) return undefined;
  const key = socket as object;
  const cached = bySocket.get(key);
  if (cached !== undefined) return cached ?? undefined;
  const cert = tls.getPeerCertificate();
  const uris = sanUris(cert.subjectaltname);
  const cn = typeof cert.subject?.CN === "string" ? cert.subject.CN : undefined;
  const found = serviceCerts.find((s) => (s.match.kind === "uri" ? uris.includes(s.match.value) : cn === s.match.value));
  const caller: Caller | null = found ? Object.freeze({ kind: "service" as const, name: found.name, scopes: Object.freeze([...found.scopes]) }) : null;
  bySocket.set(key, caller);
  return caller ?? undefined;
}
