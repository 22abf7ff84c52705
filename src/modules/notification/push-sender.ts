/**
 * Push: Web Push for web devices (VAPID signing and payload encryption by the `web-push` package, the request sent
 * with fetch so that the push service's URL is whatever the subscription says, a local server in tests) and FCM's
 * HTTP v1 API for ios/android at a configurable base URL. Both carry a collapse key derived from the notification,
 * so a resend after an ambiguous crash replaces the first copy on the device instead of showing twice.
 */
import { createHash } from "node:crypto";
import webpush from "web-push";
import type { NotificationConfig } from "../../platform/config.ts";
import { DeliveryError, httpPushError } from "./delivery-error.ts";
import type { WebPushSubscription } from "./devices.ts";

export interface OutgoingPush {
  logId: string;
  requestKey: string;
  title: string;
  body: string;
  /** Signed click link, and the receipt URL the client calls when the message arrives. */
  url: string;
  receiptUrl: string;
}

export interface PushSender {
  sendWeb(sub: WebPushSubscription, push: OutgoingPush): Promise<{ externalId: string }>;
  sendFcm(token: string, push: OutgoingPush): Promise<{ externalId: string }>;
}

const collapseKey = (push: OutgoingPush) => createHash("sha256").update(`${push.requestKey}:${push.logId}`).digest("base64url").slice(0, 32);

async function post(url: string, init: RequestInit, timeoutMs: number, provider: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, method: "POST", signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
  } catch (e) {
    throw new DeliveryError(`${provider}: ${(e as Error).message}`, { permanent: false, cause: e });
  }
}

export function createPushSender(cfg: NotificationConfig): PushSender {
  const timeoutMs = cfg.smtp.timeoutMs;
  return {
    async sendWeb(sub, push) {
      const { publicKey, privateKey, subject } = cfg.webPush;
      if (!publicKey || !privateKey) throw new DeliveryError("web push not configured (VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY)", { permanent: true });
      let details: ReturnType<typeof webpush.generateRequestDetails>;
      try {
        details = webpush.generateRequestDetails(
          sub,
          JSON.stringify({ id: push.logId, title: push.title, body: push.body, url: push.url, receipt: push.receiptUrl }),
          { vapidDetails: { subject, publicKey, privateKey }, TTL: 86_400, topic: collapseKey(push) },
        );
      } catch (e) {
        // A subscription whose keys do not parse can never be delivered to.
        throw new DeliveryError(`web push: ${(e as Error).message}`, { permanent: true, deviceGone: true, cause: e });
      }
      const res = await post(details.endpoint, { headers: details.headers as Record<string, string>, body: details.body ?? undefined }, timeoutMs, "web push");
      if (res.status < 200 || res.status > 299) throw httpPushError("web push", res.status, await res.text().catch(() => ""));
      await res.body?.cancel();
      return { externalId: (res.headers.get("location") ?? `webpush:${push.logId}`).slice(-100) };
    },

    async sendFcm(token, push) {
      const { baseUrl, projectId, accessToken } = cfg.fcm;
      if (!projectId || !accessToken) throw new DeliveryError("FCM not configured (FCM_PROJECT_ID / FCM_ACCESS_TOKEN)", { permanent: true });
      const key = collapseKey(push);
      const res = await post(
        `${baseUrl}/v1/projects/${encodeURIComponent(projectId)}/messages:send`,
        {
          headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" },
          body: JSON.stringify({
            message: {
              token,
              notification: { title: push.title, body: push.body },
              data: { id: push.logId, url: push.url, receipt: push.receiptUrl },
              android: { collapse_key: key },
              apns: { headers: { "apns-collapse-id": key } },
            },
          }),
        },
        timeoutMs,
        "fcm",
      );
      const text = await res.text().catch(() => "");
      if (res.status !== 200) {
        // FCM says UNREGISTERED (404) for a token that no longer exists; INVALID_ARGUMENT (400) may name the token too.
        const gone = /UNREGISTERED/.test(text) || (res.status === 400 && /registration token/i.test(text));
        throw httpPushError("fcm", res.status, text, gone);
      }
      const name = (JSON.parse(text || "{}") as { name?: string }).name ?? `fcm:${push.logId}`;
      return { externalId: name.slice(-100) };
    },
  };
}
