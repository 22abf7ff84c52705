import { pino, type Logger } from "pino";

export type { Logger };

/** Creates the root logger; request and job loggers are its children. */
export function createLogger(opts: { level: string; name?: string }): Logger {
  return pino({
    name: opts.name ?? "movierec",
    level: opts.level,
    // Belt and braces: even if a secret reaches a log call by mistake, it is not written.
    redact: {
      paths: ["password", "*.password", "token", "*.token", "authorization", "*.authorization", "refreshToken", "*.refreshToken"],
      censor: "[redacted]",
    },
  });
}
