/**
 * `npm run bench:tls`: what TLS costs on the one API port. Starts two real server processes over one throw-away
 * database — cleartext and TLS (a CA and certificate made with openssl for the run) — and drives each with h2load
 * (Debian's nghttp2-client) in alternation: many short connections (one request each: handshake-bound) and a few
 * long ones (many requests each: steady-state cost). Prints req/s and h2load's mean connect and first-byte times.
 * Options: BENCH_SHORT (connections per short round, default 500), BENCH_ROUNDS (default 3).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { loadavg } from "node:os";
import { TestPki } from "../../tests/support/test-certs.ts";
import { openBenchDatabase } from "./bench-database.ts";

const SHORT = Number(process.env.BENCH_SHORT ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["src/main.ts", "serve"], { env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn" }, stdio: ["ignore", "ignore", "inherit"] });
  // h2load exits 0 even when every request failed: ready means one request succeeded.
  for (let i = 0; i < 600; i++) {
    const out = execFileSync("h2load", ["-n", "1", "-c", "1", `${env.TLS_CERT_FILE ? "https" : "http"}://127.0.0.1:${port}/healthz`], { encoding: "utf8" });
    if (/ 1 succeeded/.test(out)) return { child, port };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error("server did not start");
}

interface Figures {
  rps: number;
  connectMs: number;
  ttfbMs: number;
}

function h2load(url: string, n: number, c: number): Figures {
  const out = execFileSync("h2load", ["-n", String(n), "-c", String(c), "-m", "1", url], { encoding: "utf8" });
  const rps = Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN);
  const mean = (label: string) => {
    const m = new RegExp(`${label}\\s+[\\d.]+(us|ms|s)\\s+[\\d.]+(us|ms|s)\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return NaN;
    const v = Number(m[3]);
    return m[4] === "us" ? v / 1000 : m[4] === "s" ? v * 1000 : v;
  };
  if (!/ 0 failed/.test(out)) process.stderr.write(out);
  return { rps, connectMs: mean("time for connect:"), ttfbMs: mean("time to 1st byte:") };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  try {
    execFileSync("h2load", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error("h2load is missing: apt-get install nghttp2-client");
  }
  const db = await openBenchDatabase();
  const pki = new TestPki();
  const ca = pki.ca("bench-ca");
  const cert = pki.leaf("bench-server", ca, "localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth");
  const base = { DATABASE_URL: db.url, REDIS_URL: db.redisUrl, REDIS_PREFIX: `bench${process.pid}`, NODE_ENV: "development" };
  const clear = await startServer(base);
  const tls = await startServer({ ...base, TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile });
  const urls = { cleartext: `http://127.0.0.1:${clear.port}/healthz`, TLS: `https://127.0.0.1:${tls.port}/healthz` };
  const results: Record<string, Record<string, Figures[]>> = { cleartext: { short: [], long: [] }, TLS: { short: [], long: [] } };
  try {
    for (const url of Object.values(urls)) h2load(url, 200, 10);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, url] of Object.entries(urls)) {
        results[name]!.short!.push(h2load(url, SHORT, SHORT)); // one request per connection
        results[name]!.long!.push(h2load(url, 20 * SHORT, 10)); // 10 connections, many requests each
      }
    }
  } finally {
    clear.child.kill("SIGTERM");
    tls.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    await db.drop();
  }
  console.log(`bench:tls — GET /healthz over h2 (h2load -m 1), ${ROUNDS} alternating rounds, medians; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log("| load | transport | req/s | mean connect | mean time to 1st byte |");
  console.log("|---|---|---|---|---|");
  for (const kind of ["short", "long"] as const) {
    for (const name of ["cleartext", "TLS"]) {
      const f = results[name]![kind]!;
      const label = kind === "short" ? `${SHORT} connections × 1 request` : `10 connections × ${2 * SHORT} requests`;
      console.log(`| ${label} | ${name} | ${median(f.map((x) => x.rps)).toFixed(0)} | ${median(f.map((x) => x.connectMs)).toFixed(2)} ms | ${median(f.map((x) => x.ttfbMs)).toFixed(2)} ms |`);
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
