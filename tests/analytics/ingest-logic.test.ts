/** Pure parts of ingestion: event rules, client address behind proxies, COPY text escaping, and the config. */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/platform/config.ts";
import { clientAddress, createProxyTrust } from "../../src/modules/analytics/client-address.ts";
import { copyLine } from "../../src/modules/analytics/copy-text.ts";
import { type EventInput, MAX_EVENT_AGE_MS, toActivityRow } from "../../src/modules/analytics/event-input.ts";
import { resolveOrigin } from "../../src/modules/analytics/request-origin.ts";

const origin = { userId: "7", ipAddress: "192.0.2.0", userAgent: "ua" };
const now = new Date("2026-03-10T12:00:00Z");
const ok: EventInput = { sessionId: "s1", actionType: "movie_view", movieId: "42", referer: "", source: "web", metadata: { q: "x" }, occurredAt: undefined };

describe("toActivityRow", () => {
  it("builds the row of a valid event (server time when none is given)", () => {
    expect(toActivityRow(ok, origin, now)).toEqual({
      userId: "7", sessionId: "s1", actionType: "movie_view", movieId: "42", ipAddress: "192.0.2.0", userAgent: "ua", referer: null,
      source: "web", metadata: '{"q":"x"}', timestamp: now,
    });
  });

  it("keeps a recent client time and replaces future or too old ones", () => {
    const recent = new Date(now.getTime() - 3_600_000);
    expect((toActivityRow({ ...ok, occurredAt: recent }, origin, now) as { timestamp: Date }).timestamp).toEqual(recent);
    expect((toActivityRow({ ...ok, occurredAt: new Date(now.getTime() + 1000) }, origin, now) as { timestamp: Date }).timestamp).toEqual(now);
    const old = new Date(now.getTime() - MAX_EVENT_AGE_MS - 1);
    expect((toActivityRow({ ...ok, occurredAt: old }, origin, now) as { timestamp: Date }).timestamp).toEqual(now);
  });

  it("names the field of each broken rule", () => {
    const reason = (e: Partial<EventInput> | undefined) => (toActivityRow(e === undefined ? undefined : { ...ok, ...e }, origin, now) as { reason?: string }).reason;
    expect(reason(undefined)).toMatch(/^event:/);
    expect(reason({ sessionId: "" })).toMatch(/^event\.session_id:/);
    expect(reason({ sessionId: "x".repeat(101) })).toMatch(/^event\.session_id:/);
    expect(reason({ actionType: undefined })).toMatch(/^event\.action_type:/);
    expect(reason({ source: undefined })).toMatch(/^event\.source:/);
    expect(reason({ movieId: "0" })).toMatch(/^event\.movie_id:/);
    expect(reason({ movieId: "99999999999999999999" })).toMatch(/^event\.movie_id:/);
    expect(reason({ referer: "r".repeat(501) })).toMatch(/^event\.referer:/);
    expect(reason({ metadata: { big: "x".repeat(9000) } })).toMatch(/^event\.metadata: must be at most/);
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 9; i++) deep = { d: deep };
    expect(reason({ metadata: deep })).toMatch(/^event\.metadata: nesting/);
    expect(reason({ metadata: { nul: "a\u0000b" } })).toMatch(/NUL/);
  });
});

describe("client address", () => {
  const trust = createProxyTrust(["10.0.0.0/8", "2001:db8::1"]);

  it("is the TCP peer unless the peer is a trusted proxy", () => {
    expect(clientAddress("198.51.100.9", "1.2.3.4", trust)).toBe("198.51.100.9");
    expect(clientAddress("::ffff:198.51.100.9", null, trust)).toBe("198.51.100.9");
    expect(clientAddress(undefined, "1.2.3.4", trust)).toBeUndefined();
  });

  it("walks X-Forwarded-For from the right past trusted proxies only", () => {
    expect(clientAddress("10.1.1.1", "203.0.113.5", trust)).toBe("203.0.113.5");
    // The left-most entry was written by the client: it is not believed past the first untrusted hop.
    expect(clientAddress("10.1.1.1", "6.6.6.6, 203.0.113.5, 10.2.2.2", trust)).toBe("203.0.113.5");
    expect(clientAddress("2001:db8::1", "2001:db8:abcd::7", trust)).toBe("2001:db8:abcd::7");
    expect(clientAddress("10.1.1.1", "garbage", trust)).toBe("10.1.1.1");
  });

  it("anonymises, and lets only analytics.write services supply the visitor's address and agent", () => {
    const headers = { forwardedFor: null, userAgent: "direct", clientIp: "203.0.113.99", clientUserAgent: "visitor" };
    const service = { kind: "service" as const, name: "web", scopes: ["analytics.write"] };
    expect(resolveOrigin({ caller: service, peer: "127.0.0.1", headers }, trust)).toEqual({ userId: null, ipAddress: "203.0.113.0", userAgent: "visitor" });
    const user = { kind: "user" as const, userId: "5", isStaff: false };
    expect(resolveOrigin({ caller: user, peer: "198.51.100.200", headers }, trust)).toEqual({ userId: "5", ipAddress: "198.51.100.0", userAgent: "direct" });
    expect(resolveOrigin({ caller: user, peer: undefined, headers: { ...headers, userAgent: null } }, trust)).toEqual({
      userId: "5", ipAddress: "0.0.0.0", userAgent: "",
    });
  });
});

describe("COPY text", () => {
  it("escapes the framing characters and writes NULL as \\N", () => {
    expect(copyLine(["a\tb", null, "c\\d\ne\rf", "plain"])).toBe("a\\tb\t\\N\tc\\\\d\\ne\\rf\tplain\n");
  });
});

describe("analytics configuration", () => {
  it("has safe defaults", () => {
    expect(loadConfig({}).analytics).toEqual({
      trustedProxies: [], retentionMonths: 12, archiveMode: "archive", metricsFlushMs: 10_000,
      auditRetentionDays: 730, impressionFlushMs: 1000, impressionBufferMax: 5000, attributionWindowHours: 24, recordImpressions: true,
    });
  });

  it("reads and validates TRUSTED_PROXIES, retention and archive mode", () => {
    const c = loadConfig({ TRUSTED_PROXIES: "10.0.0.0/8, 192.0.2.7,2001:db8::/32", ANALYTICS_RETENTION_MONTHS: "6", ANALYTICS_ARCHIVE_MODE: "drop" });
    expect(c.analytics).toMatchObject({ trustedProxies: ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"], retentionMonths: 6, archiveMode: "drop" });
    expect(() => loadConfig({ TRUSTED_PROXIES: "10.0.0.0/33" })).toThrow(/TRUSTED_PROXIES entry "10.0.0.0\/33"/);
    expect(() => loadConfig({ TRUSTED_PROXIES: "proxy.local" })).toThrow(/TRUSTED_PROXIES/);
    expect(() => loadConfig({ ANALYTICS_ARCHIVE_MODE: "keep" })).toThrow(/ANALYTICS_ARCHIVE_MODE/);
    expect(() => loadConfig({ ANALYTICS_RETENTION_MONTHS: "0" })).toThrow(/ANALYTICS_RETENTION_MONTHS/);
  });
});
