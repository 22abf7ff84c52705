/**
 * A local SMTP server (the `smtp-server` package, as the notification tests use) that accepts every message and
 * counts what each recipient got, so "each of 500 users received the broadcast exactly once" is a count per address.
 */
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface SmtpSink {
  readonly port: number;
  /** Messages accepted per recipient address (lower-cased). */
  readonly perRecipient: ReadonlyMap<string, number>;
  /** All messages accepted. */
  total(): number;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const perRecipient = new Map<string, number>();
  let total = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, cb) {
      stream.on("data", () => undefined);
      stream.on("end", () => {
        // Counted when answered 250, as a real relay would: only then is the message the relay's.
        total++;
        for (const rcpt of session.envelope.rcptTo) {
          const to = rcpt.address.toLowerCase();
          perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
        }
        cb();
      });
    },
  });
  // A pooled connection the worker closes abruptly (shutdown, failover) is not the sink's concern.
  server.on("error", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    perRecipient,
    total: () => total,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
