/**
 * Tracking and unsubscribe links, served by the API server's plain-HTTP fallback:
 * - `GET /t/open/<logId>/<sig>.gif`: the open pixel (status opened, `opened_at` set once);
 * - `GET /t/click/<logId>/<sig>?u=<url>`: records the click and redirects to `u`; the signature covers the URL, so the
 *   endpoint can never be used as an open redirect;
 * - `POST|GET /t/delivered/<logId>/<sig>`: the delivery receipt a push client sends when the message arrives;
 * - `GET /unsubscribe/<userId>/<flag>/<sig>`: a confirmation page; `POST` (RFC 8058 one-click, what mail clients
 *   send) turns the preference off. GET changes nothing, because link scanners follow every link in a mail.
 * Signatures are HMAC-SHA256 with TRACKING_SECRET, compared in constant time.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Logger } from "../../platform/logger.ts";
import { PREFERENCE_FLAGS, type PreferenceFlag } from "./preferences.ts";
import { movieOfLink, type NotificationEvaluationHooks } from "./sent-lists.ts";

export interface TrackingLinks {
  openPixel(logId: string): string;
  click(logId: string, url: string): string;
  deliveryReceipt(logId: string): string;
  unsubscribe(userId: string, flag: PreferenceFlag): string;
}

export function createSigner(secret: string) {
  const sign = (what: string) => createHmac("sha256", secret).update(what).digest("base64url").slice(0, 32);
  const verify = (what: string, sig: string) => {
    const want = Buffer.from(sign(what));
    const got = Buffer.from(sig);
    return got.length === want.length && timingSafeEqual(got, want);
  };
  return { sign, verify };
}

/** Absolute, signed links under `baseUrl`. */
export function createTrackingLinks(baseUrl: string, secret: string): TrackingLinks {
  const { sign } = createSigner(secret);
  return {
    openPixel: (id) => `${baseUrl}/t/open/${id}/${sign(`open:${id}`)}.gif`,
    click: (id, url) => `${baseUrl}/t/click/${id}/${sign(`click:${id}:${url}`)}?u=${encodeURIComponent(url)}`,
    deliveryReceipt: (id) => `${baseUrl}/t/delivered/${id}/${sign(`delivered:${id}`)}`,
    unsubscribe: (userId, flag) => `${baseUrl}/unsubscribe/${userId}/${flag}/${sign(`unsubscribe:${userId}:${flag}`)}`,
  };
}

/** The 43-byte transparent GIF. */
const PIXEL = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");

// Each event moves the status forward only (sent < delivered < opened < clicked) and sets its time once.
const SQL = {
  delivered: `update notification_logs set delivered_at = coalesce(delivered_at, now()),
      status = case when status = 'sent' then 'delivered' else status end
    where id = ? and status in ('sent', 'delivered', 'opened', 'clicked')`,
  opened: `update notification_logs set opened_at = coalesce(opened_at, now()), delivered_at = coalesce(delivered_at, now()),
      status = case when status in ('sent', 'delivered') then 'opened' else status end
    where id = ? and status in ('sent', 'delivered', 'opened', 'clicked')`,
  clicked: `update notification_logs set clicked_at = coalesce(clicked_at, now()), opened_at = coalesce(opened_at, now()),
      delivered_at = coalesce(delivered_at, now()),
      status = case when status in ('sent', 'delivered', 'opened') then 'clicked' else status end
    where id = ? and status in ('sent', 'delivered', 'opened', 'clicked')`,
} as const;

export type TrackingEvent = keyof typeof SQL;

/** Records an event for a notification (idempotent; a pending or failed notification is left alone). */
export async function recordTrackingEvent(orm: MikroORM, logId: string, event: TrackingEvent): Promise<void> {
  await orm.em.fork().execute(SQL[event], [logId]);
}

/** A plain-HTTP route: returns false when the path is not its own (the server answers 404). */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

const html = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;

/** The tracking and unsubscribe endpoints. */
export function createTrackingRoute(deps: { orm: MikroORM; secret: string; log: Logger; evaluation?: NotificationEvaluationHooks }): HttpRoute {
  /** A click on a movie link is a click on that movie's impression in the notification (after the redirect: best effort). */
  const attribute = async (logId: string, target: string) => {
    const movieId = movieOfLink(target);
    if (!movieId || !deps.evaluation?.clicked) return;
    const [row] = await deps.orm.em.fork().execute<{ user_id: string }[]>("select user_id::text as user_id from notification_logs where id = ?", [logId]);
    if (row) await deps.evaluation.clicked(row.user_id, movieId);
  };
  const { verify } = createSigner(deps.secret);
  const fail = (res: ServerResponse, e: unknown) => {
    deps.log.warn({ err: (e as Error).message }, "tracking endpoint failed");
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end("error");
  };
  const notFound = (res: ServerResponse) => {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  };

  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://local");
    const parts = url.pathname.split("/").filter((p) => p !== "");
    const method = req.method ?? "GET";
    if (parts[0] === "t" && parts.length === 4 && /^[0-9]{1,19}$/.test(parts[2]!)) {
      const [, kind, id, rawSig] = parts as [string, string, string, string];
      if (kind === "open" && method === "GET" && rawSig.endsWith(".gif") && verify(`open:${id}`, rawSig.slice(0, -4))) {
        res.writeHead(200, { "content-type": "image/gif", "cache-control": "no-store, max-age=0", "content-length": PIXEL.length });
        res.end(PIXEL);
        // After answering: a slow database never shows as a broken image.
        recordTrackingEvent(deps.orm, id, "opened").catch((e) => deps.log.warn({ err: (e as Error).message }, "open not recorded"));
        return true;
      }
      const target = url.searchParams.get("u") ?? "";
      if (kind === "click" && method === "GET" && /^https?:\/\//i.test(target) && verify(`click:${id}:${target}`, rawSig)) {
        recordTrackingEvent(deps.orm, id, "clicked").then(
          () => {
            res.writeHead(302, { location: target, "cache-control": "no-store" });
            res.end();
            attribute(id, target).catch((e) => deps.log.warn({ err: (e as Error).message }, "click not attributed"));
          },
          (e) => {
            // The reader still gets where they were going.
            deps.log.warn({ err: (e as Error).message }, "click not recorded");
            res.writeHead(302, { location: target, "cache-control": "no-store" });
            res.end();
          },
        );
        return true;
      }
      if (kind === "delivered" && (method === "POST" || method === "GET") && verify(`delivered:${id}`, rawSig)) {
        recordTrackingEvent(deps.orm, id, "delivered").then(() => {
          res.writeHead(204);
          res.end();
        }, (e) => fail(res, e));
        return true;
      }
      notFound(res);
      return true;
    }
    if (parts[0] === "unsubscribe" && parts.length === 4) {
      const [, userId, flag, sig] = parts as [string, string, string, string];
      if (!/^[0-9]{1,19}$/.test(userId) || !(flag in PREFERENCE_FLAGS) || !verify(`unsubscribe:${userId}:${flag}`, sig)) {
        notFound(res);
        return true;
      }
      if (method === "GET") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
        res.end(html("Unsubscribe", `<form method="post"><p>Stop these emails (${flag.replace(/_/g, " ")})?</p><button name="List-Unsubscribe" value="One-Click">Unsubscribe</button></form>`));
        return true;
      }
      if (method === "POST") {
        // The column name comes from the fixed PREFERENCE_FLAGS list, checked above.
        deps.orm.em.fork().execute(`update notification_preferences set ${flag} = false, updated_at = now() where user_id = ?`, [userId]).then(() => {
          res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
          res.end(html("Unsubscribed", "<p>You are unsubscribed.</p>"));
        }, (e) => fail(res, e));
        // The body (List-Unsubscribe=One-Click) carries nothing we need; drain it.
        req.resume();
        return true;
      }
    }
    return false;
  };
}
