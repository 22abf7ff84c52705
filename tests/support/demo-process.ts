/**
 * Runs `npm run demo` (the real script: npm → node run-demo → server, worker, maybe PostgreSQL and Redis) for
 * tests, and inspects the process tree it builds through /proc, so a test can signal one process and check that
 * every process it started, and every port it listened on, is gone.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export interface DemoRun {
  npm: ChildProcess;
  /** Everything the demo printed (stdout and stderr), for assertions and failure messages. */
  output(): string;
  /** Resolves when `pattern` appears in the output; rejects after `timeoutMs` or when npm exits. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves with npm's exit once it has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `npm run demo -- ...args` in the repository with `env` added to this process's environment (undefined: removed). */
export function startDemo(args: string[], env: Record<string, string | undefined>): DemoRun {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env, npm_config_update_notifier: "false", npm_config_offline: "true" };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k];
  const npm = spawn("npm", ["run", "--silent", "demo", "--", ...args], {
    cwd: process.cwd(),
    env: merged,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const waiters = new Set<() => void>();
  const onData = (b: Buffer) => {
    text += b.toString("utf8");
    for (const w of waiters) w();
  };
  npm.stdout!.on("data", onData);
  npm.stderr!.on("data", onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.once("exit", (code, signal) => resolve({ code, signal })));
  return {
    npm,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = text.match(pattern);
          if (m) {
            done();
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`demo output did not match ${pattern} within ${timeoutMs} ms:\n${text.slice(-4000)}`));
        }, timeoutMs);
        void exited.then(() => {
          setTimeout(() => {
            if (!waiters.has(check)) return;
            done();
            reject(new Error(`demo exited before printing ${pattern}:\n${text.slice(-4000)}`));
          }, 200);
        });
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** pid → parent pid of every process on the machine (Linux /proc). */
function parentsByPid(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name may contain spaces and parentheses: fields start after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(entry), Number(fields[1]));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** Every descendant of `root` (not root itself). */
export function descendants(root: number): number[] {
  const parents = parentsByPid();
  const found: number[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const p = frontier.pop()!;
    for (const [pid, ppid] of parents) {
      if (ppid === p) {
        found.push(pid);
        frontier.push(pid);
      }
    }
  }
  return found;
}

/** The command line of a pid, or "" once it is gone. */
export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
  } catch {
    return "";
  }
}

/** True while a process exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Waits until none of `pids` runs; returns those still running after `timeoutMs`, with their command lines. */
export async function waitAllGone(pids: readonly number[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(isRunning);
    if (alive.length === 0 || Date.now() > deadline) return alive.map((p) => `${p} ${commandOf(p)}`);
    await sleep(100);
  }
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}
