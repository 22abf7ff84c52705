/**
 * Client addresses are personal data; activity logs keep only a truncated address (as web analytics tools do):
 * IPv4 keeps its /24 (last octet zeroed), IPv6 its /48 (the site prefix); an IPv4-mapped IPv6 address is treated as
 * IPv4. The result is still a valid `inet` value (the analytics table's column type) and still tells the region and
 * network, but no longer the household or device. It cannot be reversed, so nothing needs a key.
 */
import { isIPv4, isIPv6 } from "node:net";

/** The anonymised form of `ip`, or undefined when `ip` is not an IP address. */
export function anonymizeIp(ip: string): string | undefined {
  let addr = ip.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  if (mapped) addr = mapped[1]!;
  if (isIPv4(addr)) {
    const parts = addr.split(".");
    return `${parts[0]}.${parts[1]}.${parts[2]}.0`;
  }
  const zone = addr.indexOf("%");
  if (zone >= 0) addr = addr.slice(0, zone);
  if (!isIPv6(addr)) return undefined;
  const groups = expandIPv6(addr);
  return `${groups.slice(0, 3).map((g) => g.toString(16)).join(":")}::`;
}

/** The eight 16-bit groups of an IPv6 address (handles `::` and a dotted IPv4 tail). */
function expandIPv6(addr: string): number[] {
  let text = addr;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const o = v4[1]!.split(".").map(Number);
    text = text.slice(0, v4.index) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}
