import { pino, type Logger } from "pino";
import { build as prettyStream } from "pino-pretty";

export type { Logger };

/** `auto`: human-readable lines when stdout is a terminal (someone is reading), JSON lines otherwise (a collector is). */
export type LogFormat = "auto" | "json" | "pretty";

/** Creates the root logger; request and job loggers are its children. */
export function createLogger(opts: { level: string; name?: string; format?: LogFormat }): Logger {
  const options = {
    name: opts.name ?? "movierec",
    level: opts.level,
    // Belt and braces: even if a secret reaches a log call by mistake, it is not written.
    redact: {
      paths: ["password", "*.password", "token", "*.token", "authorization", "*.authorization", "refreshToken", "*.refreshToken"],
      censor: "[redacted]",
    },
  };
  const format = opts.format ?? "json";
  const pretty = format === "pretty" || (format === "auto" && process.stdout.isTTY === true);
  // Asynchronous JSON lines: a line logged while the previous write is still in flight joins the next write, so a
  // busy server makes one write per batch of access-log lines instead of one blocking write per call (bench:serving
  // --profile: the synchronous writes were a visible share of a cached call). A quiet server still writes each line
  // at once; pino flushes what is pending on exit and on the termination signals.
  if (!pretty) return pino(options, pino.destination({ dest: 1, sync: false }));
  // Synchronous: the last lines before process.exit (shutdown) must reach the terminal.
  return pino(options, prettyStream({ sync: true, colorize: process.stdout.isTTY === true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" }));
}
