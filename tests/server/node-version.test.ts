/**
 * "The project runs on Node 24, which `npm install` places in node_modules/.bin; every npm run … uses it, so the
 * machine's Node version does not matter" (README, review of 2026-11-30, item 24). Checked from the outside: npm is
 * started with a PATH that has none of this checkout's node_modules in it (so `node` is the machine's own), and the
 * `node` its scripts resolve must still be 24. Where the machine's own Node is 24 as well, the second half still
 * holds but proves less; the test says so.
 */
import { execFile } from "node:child_process";
import { delimiter } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);
/** The PATH without any node_modules/.bin: what a shell on this machine has before npm adds its own. */
const machinePath = (process.env.PATH ?? "")
  .split(delimiter)
  .filter((p) => !p.includes("node_modules"))
  .join(delimiter);

describe("Node version", () => {
  it("npm scripts run on the project's Node 24 whatever Node the machine has", { timeout: 60_000 }, async () => {
    const env = { PATH: machinePath, HOME: process.env.HOME ?? "/tmp" };
    const machine = await run("node", ["-p", "process.versions.node"], { env }).then(
      (r) => r.stdout.trim(),
      () => "none",
    );
    // What `npm run <script>` puts in front of the machine's PATH, and the node found there.
    const { stdout } = await run("npm", ["run", "-s", "env"], { cwd: ROOT, env });
    const scriptPath = /^PATH=(.*)$/m.exec(stdout)?.[1] ?? "";
    expect(scriptPath.split(delimiter)[0]).toBe(`${ROOT.replace(/\/$/, "")}/node_modules/.bin`);
    const inScripts = (await run("node", ["-p", "process.versions.node"], { env: { ...env, PATH: scriptPath } })).stdout.trim();
    expect(inScripts.split(".")[0]).toBe("24");
    if (machine.split(".")[0] === "24") console.log(`the machine's own Node is ${machine} too: this shows the PATH order, not a version difference`);
    else console.log(`machine Node ${machine}, npm scripts Node ${inScripts}`);
  });
});
