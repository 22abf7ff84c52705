/**
 * The README's Connect-Web install line must name every package the generated code and the example import:
 * it once lacked @bufbuild/protovalidate, which gen/ imports for the validation options, so a browser app
 * built from those instructions failed to resolve gen/.
 */
import { readdir, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.join(import.meta.dirname, "../..");
const packageOf = (specifier: string) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");

/** The `npm i name@version …` line under "For browser developers", as [name, version] pairs. */
async function installSpecs(): Promise<[string, string][]> {
  const readme = await readFile(path.join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### For browser developers"));
  const line = section.match(/^npm i (@connectrpc\/connect@.+)$/m);
  expect(line, "the README's Connect-Web install line").toBeTruthy();
  return line![1]!.trim().split(/\s+/).map((spec) => {
    const at = spec.lastIndexOf("@");
    return [spec.slice(0, at), spec.slice(at + 1)];
  });
}

async function installLine(): Promise<string[]> {
  return (await installSpecs()).map(([name]) => name);
}

async function bareImports(dir: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const entry of await readdir(dir, { recursive: true })) {
    if (!entry.endsWith(".js")) continue;
    const text = await readFile(path.join(dir, entry), "utf8");
    for (const m of text.matchAll(/from "([^".][^"]*)"/g)) out.add(packageOf(m[1]!));
  }
  return out;
}

describe("README Connect-Web install line", () => {
  it("names every package gen/ and the example import", async () => {
    const packages = await installLine();
    const needed = await bareImports(path.join(ROOT, "gen"));
    needed.add("@connectrpc/connect").add("@connectrpc/connect-web"); // the example's own imports
    expect([...needed].filter((p) => !packages.includes(p))).toEqual([]);
  });

  it("names only packages that resolve, at the versions this repository pins", async () => {
    // Every name is a real package installed here, at the version the README names.
    for (const [p, version] of await installSpecs()) {
      const manifest = path.join(ROOT, "node_modules", p, "package.json");
      expect(existsSync(manifest), p).toBe(true);
      expect(JSON.parse(await readFile(manifest, "utf8")).version, p).toBe(version);
    }
  });
});
