/**
 * What a person sees of the server process: readable log lines when its output is a terminal (JSON lines when it
 * is not, for collectors), and a short page at `GET /` linking health and metrics instead of a bare 404.
 * The terminal is a real pseudo-terminal from util-linux `script`.
 */
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { describe, expect, inject, it } from "vitest";
import { descendants, commandOf } from "../support/demo-process.ts";

const hasScript = spawnSync("sh", ["-c", "command -v script"]).status === 0;
const env = () => ({ PATH: process.env.PATH ?? "", LOG_LEVEL: "info", SERVER_PROCESSES: "1", DATABASE_URL: inject("databaseUrl"), REDIS_URL: inject("redisUrl"), REDIS_PREFIX: inject("redisPrefix") });

describe("server process output and GET /", () => {
  it.skipIf(!hasScript)("logs readable lines on a terminal and serves a home page linking health and metrics", { timeout: 90_000 }, async () => {
    // `script` gives the process a pseudo-terminal as stdout; `exec` makes node the direct child.
    const child = spawn("script", ["-qfec", `exec ${process.execPath} src/main.ts serve`, "/dev/null"], {
      env: { ...env(), PORT: "0", HOST: "127.0.0.1", TERM: "dumb" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (b: Buffer) => (out += b.toString("utf8")));
    const deadline = Date.now() + 80_000;
    let port = 0;
    while (Date.now() < deadline && port === 0) {
      // pino-pretty: `HH:MM:ss.l INFO (movierec-serve): listening …` then indented `port: N` lines.
      const plain = out.replace(/\u001b\[[0-9;]*m/g, "");
      const m = plain.match(/INFO.*listening[\s\S]*?port: (\d+)/);
      if (m) port = Number(m[1]);
      else await new Promise((r) => setTimeout(r, 100));
    }
    try {
      expect(port, out).toBeGreaterThan(0);
      expect(out).not.toMatch(/\{"level":/);

      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html).toContain('href="/healthz"');
      expect(html).toContain('href="/metrics"');
      expect(html).toContain(`grpcurl -plaintext 127.0.0.1:${port} list`);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/no-such-page`)).status).toBe(404);
    } finally {
      const node = descendants(child.pid!).find((p) => commandOf(p).includes("src/main.ts serve"));
      if (node) process.kill(node, "SIGTERM");
      else child.kill("SIGKILL");
      await once(child, "exit");
    }
  });

  it("logs JSON lines when the output is not a terminal", { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, ["src/main.ts", "migrate"], { env: env(), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (b: Buffer) => (out += b.toString("utf8")));
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
    const lines = out.trim().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty("level");
    expect(out).toContain('"msg":"database is up to date"');
  });
});
