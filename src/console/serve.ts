/**
 * Serves the built operator console (dist/console, see build.ts) at /console/ on the API port. A strict
 * Content-Security-Policy keeps everything same-origin: scripts and styles from the console's own files, RPCs to
 * this server only, template previews in sandboxed frames.
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";

/** Where the built console lives (written by build.ts). */
export const CONSOLE_DIST = fileURLToPath(new URL("../../dist/console/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
};
const FILE = /^\/console\/([a-z0-9.-]*)$/;
const CSP = "default-src 'self'; img-src 'self' data:; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Answers GET /console/… when it is one; returns false for other paths. */
export function serveConsole(req: IncomingMessage, res: ServerResponse, path: string): boolean {
  if (req.method !== "GET" || (path !== "/console" && !path.startsWith("/console/"))) return false;
  if (path === "/console") {
    res.writeHead(301, { location: "/console/" });
    res.end();
    return true;
  }
  const name = FILE.exec(path)?.[1];
  const file = name === "" ? "index.html" : name;
  const type = file && TYPES[file.slice(file.lastIndexOf("."))];
  if (!file || !type || file.startsWith(".")) {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
    return true;
  }
  readFile(`${CONSOLE_DIST}${file}`).then(
    (body) => {
      res.writeHead(200, { "content-type": type, "content-security-policy": CSP, "x-content-type-options": "nosniff", "cache-control": file === "index.html" ? "no-store" : "no-cache" });
      res.end(body);
    },
    () => {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("the console is not built: run npm run build:console");
    },
  );
  return true;
}
