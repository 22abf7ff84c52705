/**
 * External HTTP/2 load generators for `npm run bench:serving`: h2load (Debian `nghttp2-client`, installed with apt-get
 * when missing and run as root) or ghz. Both drive unary gRPC calls with one fixed binary request and fixed headers,
 * so neither the load generator's cost nor its client library differs between the servers compared.
 * h2load only checks HTTP statuses (a gRPC error is a 200 with a grpc-status trailer), so the bench checks each call
 * with a real gRPC round trip (grpcCall) before and after each run.
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import path from "node:path";

export interface LoadFigures {
  requests: number;
  failed: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LoadSpec {
  baseUrl: string;
  /** "/package.Service/Method" */
  path: string;
  /** The protobuf request message (without the gRPC frame). */
  request: Uint8Array;
  headers: Record<string, string>;
  durationSec: number;
  warmupSec: number;
  /** HTTP/2 connections × concurrent streams on each = calls in flight. */
  connections: number;
  streams: number;
}

export interface LoadDriver {
  readonly name: string;
  run(spec: LoadSpec, workDir: string): Promise<LoadFigures>;
}

/** A gRPC length-prefixed message frame (uncompressed). */
export function grpcFrame(message: Uint8Array): Buffer {
  const b = Buffer.alloc(5 + message.length);
  b.writeUInt32BE(message.length, 1);
  b.set(message, 5);
  return b;
}

/** One unary gRPC call over a fresh HTTP/2 connection: the response message bytes, or an error naming the grpc-status. */
export function grpcCall(baseUrl: string, rpcPath: string, request: Uint8Array, headers: Record<string, string>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(baseUrl);
    session.on("error", reject);
    const req = session.request({ ":method": "POST", ":path": rpcPath, "content-type": "application/grpc", te: "trailers", ...headers });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let message = "";
    req.on("response", (h) => {
      if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]); // trailers-only response
      message = String(h["grpc-message"] ?? "");
    });
    req.on("trailers", (t) => {
      status = String(t["grpc-status"]);
      message = String(t["grpc-message"] ?? "");
    });
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      session.close();
      const body = Buffer.concat(chunks);
      if (status !== "0") reject(new Error(`${rpcPath}: grpc-status ${status} ${decodeURIComponent(message)}`));
      else resolve(body.subarray(5, 5 + body.readUInt32BE(1)));
    });
    req.on("error", reject);
    req.end(grpcFrame(request));
  });
}

function which(cmd: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** h2load from the PATH, installed from Debian (`nghttp2-client`) when missing and we are root. */
export function ensureH2load(): string {
  const found = which("h2load");
  if (found) return found;
  if (process.getuid?.() !== 0 || !which("apt-get")) throw new Error("h2load is missing: install it with `apt-get install nghttp2-client` (or pass --ghz PATH)");
  console.log("h2load is missing: apt-get install -y nghttp2-client");
  try {
    execFileSync("apt-get", ["install", "-y", "-q", "nghttp2-client"], { stdio: "inherit" });
  } catch {
    execFileSync("apt-get", ["update", "-q"], { stdio: "inherit" });
    execFileSync("apt-get", ["install", "-y", "-q", "nghttp2-client"], { stdio: "inherit" });
  }
  const installed = which("h2load");
  if (!installed) throw new Error("apt-get installed nghttp2-client but h2load is still not on the PATH");
  return installed;
}

function exec(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${path.basename(bin)} exited with ${code}: ${err || out}`))));
  });
}

/** Nearest-rank percentile of an ascending array. */
const pct = (sorted: Float64Array, p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);

export function h2loadDriver(bin: string): LoadDriver {
  return {
    name: `h2load (${bin})`,
    async run(spec, workDir) {
      const body = path.join(workDir, "request.bin");
      const log = path.join(workDir, "h2load.log");
      writeFileSync(body, grpcFrame(spec.request));
      writeFileSync(log, "");
      const headerArgs = Object.entries({ "content-type": "application/grpc", te: "trailers", ...spec.headers }).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
      const out = await exec(bin, [
        "-c", String(spec.connections), "-m", String(spec.streams), "-t", "1",
        "-D", String(spec.durationSec), "--warm-up-time", String(spec.warmupSec),
        "-d", body, "--log-file", log, ...headerArgs, `${spec.baseUrl}${spec.path}`,
      ]);
      const rate = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out);
      const counts = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(out);
      if (!rate || !counts) throw new Error(`unexpected h2load output:\n${out}`);
      // Per request: start (µs since epoch), HTTP status, duration (µs).
      const durations = readFileSync(log, "utf8").split("\n").filter((l) => l !== "").map((l) => Number(l.split("\t")[2]) / 1000);
      const sorted = Float64Array.from(durations).sort();
      return { requests: Number(counts[3]), failed: Number(counts[4]), reqPerSec: Number(rate[1]), p50Ms: pct(sorted, 50), p99Ms: pct(sorted, 99) };
    },
  };
}

/** ghz with the .proto files of this repository (the ceiling has no reflection). */
export function ghzDriver(bin: string, protoRoot: string, protoFile: (rpcPath: string) => string): LoadDriver {
  return {
    name: `ghz (${bin})`,
    async run(spec, workDir) {
      const body = path.join(workDir, "request.bin");
      writeFileSync(body, spec.request);
      const [service, method] = spec.path.slice(1).split("/");
      const out = await exec(bin, [
        "--insecure", "--import-paths", protoRoot, "--proto", protoFile(spec.path), "--call", `${service}.${method}`,
        "--binary-file", body, "--metadata", JSON.stringify(spec.headers),
        "--connections", String(spec.connections), "--concurrency", String(spec.connections * spec.streams),
        "--duration", `${spec.durationSec}s`, "--format", "json", `${new URL(spec.baseUrl).host}`,
      ]);
      const r = JSON.parse(out) as { count: number; rps: number; statusCodeDistribution?: Record<string, number>; latencyDistribution?: { percentage: number; latency: number }[] };
      const lat = (p: number) => (r.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? NaN) / 1e6;
      const ok = r.statusCodeDistribution?.OK ?? 0;
      return { requests: ok, failed: r.count - ok, reqPerSec: r.rps, p50Ms: lat(50), p99Ms: lat(99) };
    },
  };
}
