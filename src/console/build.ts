/**
 * `npm run build:console`: bundles the operator console (src/console/app) with esbuild into dist/console, which the
 * API serves at /console/. Runs in well under a second; `npm run demo` and the test setup run it, nothing is fetched.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { CONSOLE_DIST } from "./serve.ts";

const APP = fileURLToPath(new URL("./app/", import.meta.url));

/** Builds the console into `outDir` (default dist/console). */
export async function buildConsole(outDir = CONSOLE_DIST): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [`${APP}main.ts`],
    outfile: `${outDir}console.js`,
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    sourcemap: true,
    legalComments: "linked",
    logLevel: "warning",
  });
  copyFileSync(`${APP}index.html`, `${outDir}index.html`);
  copyFileSync(`${APP}console.css`, `${outDir}console.css`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildConsole();
  console.log(`console built into ${CONSOLE_DIST}`);
}
