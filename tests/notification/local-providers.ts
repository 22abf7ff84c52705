/**
 * Local stand-ins for the providers, on loopback: a real SMTP server (`smtp-server`, messages parsed with
 * `mailparser`) whose replies a test can script, and an HTTP server standing in for Web Push and FCM endpoints.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  raw: Buffer;
  parsed: ParsedMail;
  /** Our notification id (X-Movierec-Notification). */
  notificationId: string;
  to: string;
}

type SmtpRule = (rcpt: string, attempt: number) => { code: number; message: string } | undefined;

export interface LocalSmtp {
  port: number;
  received: ReceivedMail[];
  /** Replies per recipient: return a 4xx/5xx to refuse (attempt counts from 1 per recipient). */
  rule: SmtpRule;
  /** Called with each message before it is accepted; may delay or hold the reply (the crash test does). */
  beforeAccept: (mail: ReceivedMail) => Promise<"accept" | "drop">;
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalSmtp(): Promise<LocalSmtp> {
  const attempts = new Map<string, number>();
  const state: LocalSmtp = {
    port: 0,
    received: [],
    rule: () => undefined,
    beforeAccept: async () => "accept",
    async waitFor(count, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      while (state.received.length < count) {
        if (Date.now() > until) throw new Error(`SMTP: ${state.received.length} of ${count} messages after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: async () => {},
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onRcptTo(address, _session, cb) {
      const n = (attempts.get(address.address) ?? 0) + 1;
      attempts.set(address.address, n);
      const refusal = state.rule(address.address, n);
      if (!refusal) return cb();
      const err = Object.assign(new Error(refusal.message), { responseCode: refusal.code });
      cb(err);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", async () => {
        const raw = Buffer.concat(chunks);
        const parsed = await simpleParser(raw);
        const mail = { raw, parsed, notificationId: String(parsed.headers.get("x-movierec-notification") ?? ""), to: session.envelope.rcptTo[0]?.address ?? "" };
        // Only a message the server answered 250 counts as received, as with a real relay.
        if ((await state.beforeAccept(mail)) === "accept") {
          state.received.push(mail);
          cb();
        }
      });
    },
  });
  // A client that dies mid-message (the crash test SIGKILLs one) resets its connection: expected, not a failure.
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.server.address() as AddressInfo).port;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

export interface PushRequest {
  path: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

export interface LocalPush {
  baseUrl: string;
  requests: PushRequest[];
  /** Status, extra headers and body for a request (default 201 with a Location, or FCM's 200 with a name). */
  reply: (req: PushRequest, n: number) => { status: number; headers?: Record<string, string>; body?: string };
  close(): Promise<void>;
}

export async function startLocalPush(): Promise<LocalPush> {
  const state: LocalPush = {
    baseUrl: "",
    requests: [],
    reply: (req, n) =>
      req.path.includes("/messages:send")
        ? { status: 200, body: JSON.stringify({ name: `projects/test/messages/${n}` }) }
        : { status: 201, headers: { location: `https://push.example/m/${n}` } },
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = { path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks) };
      state.requests.push(r);
      const out = state.reply(r, state.requests.length);
      res.writeHead(out.status, { "content-type": "application/json", ...out.headers });
      res.end(out.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
