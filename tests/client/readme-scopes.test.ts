/** The README's table of service-token scopes is src/server/auth-rules.ts, written out; this keeps them equal. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AUTH_RULES, SERVICE_SCOPES } from "../../src/server/auth-rules.ts";

/** The table as the README must show it: one row per scope, the methods it opens, by service. */
export function scopeTable(): string {
  const rows = SERVICE_SCOPES.map((scope) => {
    const methods = Object.entries(AUTH_RULES).flatMap(([service, rules]) =>
      Object.entries(rules)
        .filter(([, rule]) => rule.access !== "public" && rule.scope === scope)
        .map(([method, rule]) => `${service.split(".").at(-1)}.${method}${rule.access === "staff" ? "" : " (also any signed-in user)"}`),
    );
    return `| \`${scope}\` | ${methods.join(", ")} |`;
  });
  return ["| scope | methods a service token with it may call |", "|---|---|", ...rows].join("\n");
}

describe("README service-token scopes", () => {
  it("lists every scope with exactly the methods auth-rules.ts opens to it", async () => {
    const readme = await readFile(path.join(import.meta.dirname, "../../README.md"), "utf8");
    const table = readme.match(/<!-- scopes:start[^>]*-->\n([\s\S]*?)\n<!-- scopes:end -->/);
    expect(table, "README has the scopes table between its markers").toBeTruthy();
    expect(table![1]).toBe(scopeTable());
  });
});
