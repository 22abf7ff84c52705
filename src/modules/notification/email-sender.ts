/**
 * Email over SMTP with nodemailer: any relay (SendGrid's included) from SMTP_* settings, pooled connections,
 * multipart text + HTML, List-Unsubscribe with RFC 8058 one-click, an open pixel and signed click links.
 * The Message-ID is derived from the notification, so in the rare case where a worker dies after the relay
 * accepted a message but before the log recorded it, the resend carries the same Message-ID (see README).
 */
import { createHash } from "node:crypto";
import nodemailer from "nodemailer";
import type { NotificationConfig } from "../../platform/config.ts";
import { DeliveryError } from "./delivery-error.ts";
import type { TrackingLinks } from "./tracking.ts";

export interface OutgoingEmail {
  logId: string;
  requestKey: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Signed one-click unsubscribe URL for the preference this email falls under. */
  unsubscribeUrl: string;
}

export interface EmailSender {
  send(mail: OutgoingEmail): Promise<{ externalId: string }>;
  close(): void;
}

/** `<…@domain>` from the From address, stable per notification row. */
export function messageIdFor(from: string, logId: string, requestKey: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? "movierec.local";
  const h = createHash("sha256").update(requestKey).digest("base64url").slice(0, 16);
  return `<n${logId}.${h}@${domain}>`;
}

const unescapeAttr = (s: string) => s.replace(/&amp;/g, "&").replace(/&#x3D;/g, "=").replace(/&#x2F;/g, "/").replace(/&quot;/g, '"').replace(/&#39;/g, "'");
const escapeAttr = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;");

/** Routes http(s) links through the click tracker (except unsubscribe links) and appends the open pixel. */
export function addTracking(html: string, logId: string, links: TrackingLinks, unsubscribePrefix: string): string {
  if (html === "") return html;
  const rewritten = html.replace(/href="(https?:\/\/[^"]+)"/gi, (m, raw: string) => {
    const url = unescapeAttr(raw);
    return url.startsWith(unsubscribePrefix) ? m : `href="${escapeAttr(links.click(logId, url))}"`;
  });
  const pixel = `<img src="${escapeAttr(links.openPixel(logId))}" width="1" height="1" alt="" style="display:none">`;
  return /<\/body>/i.test(rewritten) ? rewritten.replace(/<\/body>/i, `${pixel}</body>`) : rewritten + pixel;
}

/** Classifies a nodemailer error: SMTP 5xx is final, 4xx and connection trouble are worth a retry. */
export function classifySmtpError(e: unknown): DeliveryError {
  const err = e as { responseCode?: number; code?: string; response?: string; message?: string };
  const message = `smtp: ${err.response ?? err.message ?? String(e)}`.slice(0, 500);
  if (typeof err.responseCode === "number") return new DeliveryError(message, { permanent: err.responseCode >= 500, cause: e });
  // No SMTP reply: a message nodemailer refused to build is final, anything on the wire (refused, timeout, reset) is not.
  return new DeliveryError(message, { permanent: err.code === "EMESSAGE" || err.code === "EENVELOPE", cause: e });
}

export function createEmailSender(cfg: NotificationConfig, links: TrackingLinks): EmailSender {
  const smtp = cfg.smtp;
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? "" } : undefined,
    pool: true,
    maxConnections: smtp.poolSize,
    connectionTimeout: smtp.timeoutMs,
    greetingTimeout: smtp.timeoutMs,
    socketTimeout: smtp.timeoutMs,
  });
  const unsubscribePrefix = `${cfg.publicBaseUrl}/unsubscribe/`;
  return {
    async send(mail) {
      const messageId = messageIdFor(smtp.from, mail.logId, mail.requestKey);
      try {
        await transport.sendMail({
          from: smtp.from,
          to: mail.to,
          subject: mail.subject,
          text: `${mail.text}\n\n--\nUnsubscribe: ${mail.unsubscribeUrl}\n`,
          html: mail.html === "" ? undefined : addTracking(mail.html, mail.logId, links, unsubscribePrefix),
          messageId,
          headers: {
            "List-Unsubscribe": `<${mail.unsubscribeUrl}>`,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Movierec-Notification": mail.logId,
          },
        });
      } catch (e) {
        throw classifySmtpError(e);
      }
      return { externalId: messageId.slice(0, 100) };
    },
    close() {
      transport.close();
    },
  };
}
