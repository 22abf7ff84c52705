/**
 * The outbox: turns logical notifications into `notification_logs` rows in one transaction, then enqueues one
 * delivery job per row after the commit (never inside it). Each logical notification has an idempotency key,
 * inserted into `notification_requests` (UNIQUE) in the same transaction, so a retried job, a repeated staff call or
 * a scheduler run that overlaps another queues nothing twice. A job lost between commit and enqueue (crash, Redis
 * down) is found by the sweeper (delivery.ts), so nothing queued is ever lost.
 */
import type { EntityManager, MikroORM } from "@mikro-orm/postgresql";
import type { Queue } from "bullmq";
import type { Logger } from "../../platform/logger.ts";
import type { TemplateType } from "./entities/index.ts";
import { idArray, toNotificationView, VIEW_COLUMNS, type NotificationView } from "./notification-view.ts";
import { PREFERENCE_FLAGS, type PreferenceFlag } from "./preferences.ts";
import { renderTemplate } from "./template-engine.ts";
import { channelOf, type Template } from "./templates.ts";

export type RequestKind = "digest" | "recommendation_alert" | "trending_alert" | "new_release_alert" | "manual";
const ALERT_KINDS: ReadonlySet<RequestKind> = new Set(["recommendation_alert", "trending_alert", "new_release_alert"]);

/** Which preference switch governs a template type. */
export const PREFERENCE_OF: Record<TemplateType, PreferenceFlag> = {
  email_weekly_digest: "weekly_digest",
  email_recommendation: "recommendation_alerts",
  email_trending: "trending_alerts",
  email_new_release: "new_release_alerts",
  push_recommendation: "push_recommendations",
  push_trending: "push_trending",
  push_new_release: "push_new_releases",
};

export interface QueueRequest {
  /** Unique per logical notification, e.g. `digest:42:2025-W10`; at most 200 characters. */
  idempotencyKey: string;
  userId: string;
  kind: RequestKind;
  template: Template;
  /** Placeholder values; `user` (first_name, last_name, username) and `unsubscribe_url` are added. */
  data: Record<string, unknown>;
  /** Staff sends may override the user's switches (never `is_active`). */
  ignorePreferences?: boolean;
  /** Where a push click leads (relative to the public base URL or absolute). */
  link?: string;
}

export interface QueueResult {
  /** The key was seen before: nothing new was queued, `logs` are the first ones. */
  duplicate: boolean;
  /** Why nothing was queued although the key was new (opted out, inactive, no device, rate limited). */
  skipped?: "inactive" | "opted_out" | "no_recipient" | "rate_limited";
  logs: NotificationView[];
}

/** Jobs of the `delivery` queue. Payloads carry ids only. */
export const SEND_JOB = "send";
export const sendJobId = (logId: string, attempt: number) => `send-${logId}-a${attempt}`;

type Row = Record<string, unknown>;

export interface OutboxDeps {
  orm: MikroORM;
  queue: Queue;
  log: Logger;
  alertsPerDay: number;
  /** Signed one-click unsubscribe URL for a user's preference switch (tracking.ts). */
  unsubscribeUrl: (userId: string, flag: PreferenceFlag) => string;
}

export function createOutbox(deps: OutboxDeps) {
  /** Queues a batch (one transaction); results by idempotency key. */
  async function queue(
    requests: readonly QueueRequest[],
    hooks?: { /** Runs last in the batch's transaction with the number of rows queued (e.g. to write an audit row). */ inTransaction?: (tx: EntityManager, queued: number) => Promise<void> },
  ): Promise<Map<string, QueueResult>> {
    const results = new Map<string, QueueResult>();
    if (requests.length === 0) return results;
    const em = deps.orm.em.fork();
    const userIds = [...new Set(requests.map((r) => r.userId))];
    const users = new Map(
      (
        await em.execute<Row[]>(
          `select u.id, u.email, u.username, u.first_name, u.last_name, u.is_active, p.weekly_digest, p.recommendation_alerts,
             p.trending_alerts, p.new_release_alerts, p.push_recommendations, p.push_trending, p.push_new_releases
             from users u left join notification_preferences p on p.user_id = u.id where u.id = any(?::bigint[])`,
          [idArray(userIds)],
        )
      ).map((r) => [String(r.id), r]),
    );
    const devices = new Map<string, Row[]>();
    if (requests.some((r) => channelOf(r.template.templateType) === "push")) {
      for (const d of await em.execute<Row[]>(
        "select id, user_id, device_token, device_type from user_devices where user_id = any(?::bigint[]) and is_active order by id",
        [idArray(userIds)],
      )) {
        const list = devices.get(String(d.user_id)) ?? [];
        list.push(d);
        devices.set(String(d.user_id), list);
      }
    }

    const created: NotificationView[] = await em.transactional(async (tx) => {
      const out = await (async (): Promise<NotificationView[]> => {
      // Alerts are limited per user and channel per rolling day; the lock serialises one user's concurrent alerts.
      const alertUsers = [...new Set(requests.filter((r) => ALERT_KINDS.has(r.kind)).map((r) => r.userId))].sort();
      const alertCounts = new Map<string, number>();
      for (const userId of alertUsers) {
        await tx.execute("select pg_advisory_xact_lock(hashtextextended('notification-alerts:' || ?, 0))", [userId]);
        for (const c of await tx.execute<Row[]>(
          `select split_part(kind, ':', 2) as channel, count(*)::int as n from notification_requests
            where user_id = ? and created_at > now() - interval '1 day' and kind like '%\\_alert:%' group by 1`,
          [userId],
        )) alertCounts.set(`${userId}:${c.channel}`, Number(c.n));
      }
      // A repeated alert is a duplicate, not one more alert: known keys skip the limit (and are answered below).
      const known = new Set<string>();
      const alertKeys = requests.filter((r) => ALERT_KINDS.has(r.kind)).map((r) => r.idempotencyKey);
      if (alertKeys.length > 0) {
        for (const k of await tx.execute<Row[]>("select idempotency_key from notification_requests where idempotency_key = any(?::text[])", [`{${alertKeys.map((k) => JSON.stringify(k)).join(",")}}`])) {
          known.add(k.idempotency_key as string);
        }
      }
      const accepted = requests.filter((r) => {
        if (!ALERT_KINDS.has(r.kind) || known.has(r.idempotencyKey)) return true;
        const k = `${r.userId}:${channelOf(r.template.templateType)}`;
        const n = alertCounts.get(k) ?? 0;
        if (n >= deps.alertsPerDay) {
          results.set(r.idempotencyKey, { duplicate: false, skipped: "rate_limited", logs: [] });
          return false;
        }
        alertCounts.set(k, n + 1);
        return true;
      });
      if (accepted.length === 0) return [];
      const inserted = await tx.execute<Row[]>(
        `insert into notification_requests (idempotency_key, user_id, kind)
         select r.k, r.u, r.kind from jsonb_to_recordset(?::jsonb) as r(k text, u bigint, kind text)
         on conflict (idempotency_key) do nothing returning idempotency_key`,
        [JSON.stringify(accepted.map((r) => ({ k: r.idempotencyKey, u: r.userId, kind: `${r.kind}:${channelOf(r.template.templateType)}` })))],
      );
      const fresh = new Set(inserted.map((r) => r.idempotency_key as string));
      const rows: Record<string, unknown>[] = [];
      for (const r of accepted) {
        if (!fresh.has(r.idempotencyKey)) continue; // a duplicate: answered below
        const built = buildRows(r, users.get(r.userId), devices.get(r.userId) ?? []);
        if (typeof built === "string") results.set(r.idempotencyKey, { duplicate: false, skipped: built, logs: [] });
        else rows.push(...built);
      }
      if (rows.length === 0) return [];
      const logs = await tx.execute<Row[]>(
        `insert into notification_logs (user_id, template_id, notification_type, subject, content, recipient, request_key, html_content, payload)
         select r.user_id, r.template_id, r.type, r.subject, r.content, r.recipient, r.request_key, r.html, r.payload
           from jsonb_to_recordset(?::jsonb) as r(user_id bigint, template_id bigint, type text, subject text, content text,
                recipient text, request_key text, html text, payload jsonb)
         returning ${VIEW_COLUMNS}, request_key`,
        [JSON.stringify(rows)],
      );
      return logs.map((l) => ({ ...toNotificationView(l), requestKey: l.request_key as string }));
      })();
      if (hooks?.inTransaction) await hooks.inTransaction(tx, out.length);
      return out;
    });

    for (const l of created as (NotificationView & { requestKey: string })[]) {
      const res = results.get(l.requestKey) ?? { duplicate: false, logs: [] };
      res.logs.push(l);
      results.set(l.requestKey, res);
    }
    const duplicates = requests.filter((r) => !results.has(r.idempotencyKey)).map((r) => r.idempotencyKey);
    if (duplicates.length > 0) {
      for (const key of duplicates) results.set(key, { duplicate: true, logs: [] });
      for (const l of await em.execute<Row[]>(
        `select ${VIEW_COLUMNS}, request_key from notification_logs where request_key = any(?::text[]) order by id`,
        [`{${duplicates.map((k) => JSON.stringify(k)).join(",")}}`],
      )) results.get(l.request_key as string)!.logs.push(toNotificationView(l));
    }
    await enqueue(created);
    return results;
  }

  /** Best effort: a failure here is repaired by the sweeper, which re-enqueues pending rows without a live job. */
  async function enqueue(logs: readonly NotificationView[]): Promise<void> {
    if (logs.length === 0) return;
    try {
      await deps.queue.addBulk(logs.map((l) => ({ name: SEND_JOB, data: { logId: l.id }, opts: { jobId: sendJobId(l.id, 0) } })));
    } catch (e) {
      deps.log.warn({ err: (e as Error).message, count: logs.length }, "enqueue after commit failed; the sweeper will pick these up");
    }
  }

  function buildRows(r: QueueRequest, user: Row | undefined, userDevices: Row[]): Record<string, unknown>[] | NonNullable<QueueResult["skipped"]> {
    if (!user || user.is_active !== true) return "inactive";
    const flag = PREFERENCE_OF[r.template.templateType];
    // A user without a preferences row has the design's defaults; read them as the column defaults would.
    const enabled = user[flag] ?? (flag === "weekly_digest" || flag === "recommendation_alerts" || flag === "push_recommendations");
    if (!r.ignorePreferences && enabled !== true) return "opted_out";
    const data = {
      ...r.data,
      user: { first_name: user.first_name, last_name: user.last_name, username: user.username },
      unsubscribe_url: deps.unsubscribeUrl(r.userId, flag),
    };
    const msg = renderTemplate({ subject: r.template.subject, html: r.template.htmlContent, text: r.template.textContent }, data);
    const base = {
      user_id: r.userId,
      template_id: r.template.id || null, // built-in templates have no row
      subject: msg.subject,
      content: msg.text,
      request_key: r.idempotencyKey,
    };
    const payload = { preference: flag, ignorePreferences: r.ignorePreferences === true, link: r.link ?? "" };
    if (channelOf(r.template.templateType) === "email") {
      if (!user.email) return "no_recipient";
      return [{ ...base, type: "email", recipient: user.email, html: msg.html, payload }];
    }
    if (userDevices.length === 0) return "no_recipient";
    return userDevices.map((d) => {
      const token = d.device_token as string;
      // Web subscriptions are JSON longer than the column; the device id in the payload is what the sender uses.
      const recipient = token.length <= 200 ? token : `${d.device_type}:${String(d.id)}:${token.slice(-16)}`;
      return { ...base, type: "push", recipient, html: "", payload: { ...payload, deviceId: String(d.id) } };
    });
  }

  return { queue, enqueue };
}

export type Outbox = ReturnType<typeof createOutbox>;
export { PREFERENCE_FLAGS };
