/**
 * Which address a request really came from. The TCP peer is the client unless it is one of our own reverse proxies
 * (TRUSTED_PROXIES), in which case `X-Forwarded-For` is read from the right, skipping trusted proxies, and the first
 * untrusted hop is the client: entries further left were written by the client itself and prove nothing.
 */
import { BlockList, isIP } from "node:net";

/** Decides whether an address is one of our proxies. */
export interface ProxyTrust {
  isTrusted(address: string): boolean;
}

/** Strips the `::ffff:` of IPv4-mapped IPv6 addresses, which Node reports for IPv4 peers of dual-stack sockets. */
export function normaliseAddress(address: string): string {
  const a = address.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return mapped ? mapped[1]! : a;
}

/** Builds the trust list from `TRUSTED_PROXIES` entries (addresses or CIDR ranges, validated by the config). */
export function createProxyTrust(entries: readonly string[]): ProxyTrust {
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, bits] = entry.split("/") as [string, string | undefined];
    const type = isIP(addr) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return {
    isTrusted(address) {
      const a = normaliseAddress(address);
      const family = isIP(a);
      return family !== 0 && list.check(a, family === 6 ? "ipv6" : "ipv4");
    },
  };
}

/**
 * The client address of a request whose TCP peer is `peer`, given its `X-Forwarded-For` header (null if absent).
 * Returns undefined when nothing usable is known.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | null, trust: ProxyTrust): string | undefined {
  if (peer === undefined) return undefined;
  let client = normaliseAddress(peer);
  if (!trust.isTrusted(client) || forwardedFor === null) return isIP(client) ? client : undefined;
  const hops = forwardedFor.split(",").map((h) => normaliseAddress(h)).filter((h) => h !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop) === 0) break; // garbage: stop at the last address we could vouch for
    client = hop;
    if (!trust.isTrusted(hop)) break;
  }
  return client;
}
