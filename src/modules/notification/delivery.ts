/**
 * The send state machine, run by the `send` job for one notification_logs row:
 *
 *   pending ──claim──▶ pending + claim_token/lease_until ("sending") ──provider ok──▶ sent
 *                          │                                  └──permanent error──▶ failed (error_message)
 *                          └──transient error──▶ pending, claim released until the retry (BullMQ backoff)
 *
 * The claim is one conditional UPDATE, so two workers (or a job and its duplicate) never both send; a finished row
 * is never claimed again, so retried jobs change nothing. The lease is short and renewed by a heartbeat (every
 * third of it) while the worker holding it lives, so a slow send keeps its claim, and a dead worker's claim runs
 * out within one lease; the sweeper re-enqueues such an expired claim at its next run, without further grace, so
 * nothing is lost and recovery takes seconds. Effectively once, not exactly once: the window left is a worker
 * dying after the provider accepted a message and before the 'sent' update; the resend then carries the same
 * Message-ID (email) or collapse key (push), derived from the notification, so receivers can drop the copy.
 */
import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Queue } from "bullmq";
import type { Logger } from "../../platform/logger.ts";
import { DeliveryError } from "./delivery-error.ts";
import { parseWebSubscription, type DeviceStore } from "./devices.ts";
import type { EmailSender } from "./email-sender.ts";
import { SEND_JOB, sendJobId } from "./outbox.ts";
import { PREFERENCE_FLAGS, type PreferenceFlag } from "./preferences.ts";
import type { PushSender } from "./push-sender.ts";
import type { TrackingLinks } from "./tracking.ts";

export type DeliveryOutcome = "sent" | "failed" | "done-before" | "claimed-elsewhere" | "gone";

export interface DeliveryDeps {
  orm: MikroORM;
  queue: Queue;
  log: Logger;
  email: EmailSender;
  push: PushSender;
  devices: DeviceStore;
  links: TrackingLinks;
  leaseMs: number;
  /** How long a pending row may sit unclaimed before the sweeper assumes its job was lost. */
  sweepGraceMs: number;
}

/** Claims over all jobs after which a notification fails for good (crash loops included). */
const MAX_CLAIMS = 20;

type Row = Record<string, unknown>;

export function createDelivery(deps: DeliveryDeps) {
  const exec = <T = Row[]>(sql: string, params: unknown[]) => deps.orm.em.fork().execute<T & Row[]>(sql, params);

  /** Ends a claim with a final state; false when the claim was taken over meanwhile (nothing is overwritten). */
  async function finish(id: string, token: string, sets: string, params: unknown[]): Promise<boolean> {
    const rows = await exec(`update notification_logs set ${sets}, claim_token = null, lease_until = null where id = ? and claim_token = ? returning id`, [...params, id, token]);
    return rows.length > 0;
  }

  async function fail(id: string, token: string, message: string): Promise<"failed"> {
    await finish(id, token, "status = 'failed', error_message = ?", [message.slice(0, 2000)]);
    return "failed";
  }

  /** Whether the user still wants this (checked at send time: they may have opted out since it was queued). */
  async function allowed(userId: string, payload: Row): Promise<string | undefined> {
    const flag = payload.preference as PreferenceFlag | undefined;
    const column = flag && flag in PREFERENCE_FLAGS ? flag : "weekly_digest";
    const rows = await exec(`select u.is_active, p.${column} as enabled from users u left join notification_preferences p on p.user_id = u.id where u.id = ?`, [userId]);
    if (!rows[0] || rows[0].is_active !== true) return "user is inactive";
    if (payload.ignorePreferences !== true && flag && rows[0].enabled === false) return `user opted out (${flag})`;
    return undefined;
  }

  async function send(row: Row): Promise<{ externalId: string }> {
    const id = String(row.id);
    const payload = (row.payload ?? {}) as Row;
    const requestKey = (row.request_key as string | null) ?? `log:${id}`;
    if (row.notification_type === "email") {
      return deps.email.send({
        logId: id,
        requestKey,
        to: row.recipient as string,
        subject: row.subject as string,
        text: row.content as string,
        html: row.html_content as string,
        unsubscribeUrl: deps.links.unsubscribe(String(row.user_id), (payload.preference as PreferenceFlag) ?? "weekly_digest"),
      });
    }
    const device = typeof payload.deviceId === "string" ? await deps.devices.get(payload.deviceId) : undefined;
    if (!device || device.userId !== String(row.user_id)) throw new DeliveryError("device unregistered", { permanent: true });
    if (!device.isActive) throw new DeliveryError("device deactivated (the push provider reported its token gone)", { permanent: true });
    const link = typeof payload.link === "string" && /^https?:\/\//.test(payload.link) ? payload.link : "";
    const push = {
      logId: id,
      requestKey,
      title: row.subject as string,
      body: row.content as string,
      url: link ? deps.links.click(id, link) : "",
      receiptUrl: deps.links.deliveryReceipt(id),
    };
    try {
      if (device.deviceType === "web") {
        const sub = parseWebSubscription(device.deviceToken);
        if (!sub) throw new DeliveryError("web device token is not a push subscription", { permanent: true, deviceGone: true });
        return await deps.push.sendWeb(sub, push);
      }
      return await deps.push.sendFcm(device.deviceToken, push);
    } catch (e) {
      if (e instanceof DeliveryError && e.deviceGone) await deps.devices.deactivate(device.id);
      throw e;
    }
  }

  /**
   * Renews the claim's lease every third of it until stopped. A renewal that finds the claim gone (taken over after
   * this process stalled longer than a lease) stops renewing; `finish` then refuses to overwrite the new owner's row.
   */
  /**
   * A row still unclaimed past the grace whose job is *active* was taken by a worker that died before claiming it
   * (a live worker claims first thing). Re-adding the same job id is a no-op while BullMQ holds it as active, which
   * it does until the dead worker's lock expires and the stalled check runs (up to twice WORKER_LOCK_MS); one rescue
   * copy per job gets it sent now. A copy that races a live worker is harmless: the claim lets one of them send.
   */
  async function rescueTakenJobs(jobIds: string[]): Promise<void> {
    for (const jobId of jobIds) {
      const job = await deps.queue.getJob(jobId);
      if (!job || (await job.getState()) !== "active") continue;
      await deps.queue.add(SEND_JOB, job.data, { jobId: `${jobId}-rescue` });
    }
  }

  function heartbeat(id: string, token: string): () => void {
    let stopped = false;
    const timer = setInterval(() => {
      exec("update notification_logs set lease_until = now() + ? * interval '1 millisecond' where id = ? and claim_token = ? returning id", [deps.leaseMs, id, token]).then(
        (rows) => {
          if (rows.length === 0 && !stopped) {
            stopped = true;
            clearInterval(timer);
          }
        },
        (e: unknown) => deps.log.warn({ logId: id, err: (e as Error).message }, "could not renew a delivery lease"),
      );
    }, Math.max(100, Math.floor(deps.leaseMs / 3)));
    timer.unref();
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }

  /** Sends a claimed row and records the outcome under the claim. */
  async function claimedDelivery(row: Row, id: string, token: string, opts: { finalAttempt: boolean; retryDelayMs: number }): Promise<DeliveryOutcome> {
    const refusal = await allowed(String(row.user_id), (row.payload ?? {}) as Row);
    if (refusal) return fail(id, token, refusal);
    try {
      const { externalId } = await send(row);
      const ours = await finish(id, token, "status = 'sent', sent_at = coalesce(sent_at, now()), external_id = ?, error_message = ''", [externalId]);
      if (!ours) deps.log.warn({ logId: id }, "sent, but the claim had been taken over (this process stalled for longer than a lease)");
      return "sent";
    } catch (e) {
      const err = e instanceof DeliveryError ? e : new DeliveryError((e as Error).message ?? String(e), { permanent: false, cause: e });
      if (err.permanent) return fail(id, token, err.message);
      if (opts.finalAttempt || Number(row.attempts) >= MAX_CLAIMS) return fail(id, token, `gave up after ${String(row.attempts)} attempts: ${err.message}`);
      // Keep the row away from the sweeper until BullMQ's retry is due; the retry itself may claim at once.
      await exec(
        `update notification_logs set claim_token = null, lease_until = now() + ? * interval '1 millisecond', error_message = ?
          where id = ? and claim_token = ?`,
        [opts.retryDelayMs, err.message.slice(0, 2000), id, token],
      );
      throw err;
    }
  }

  return {
    /**
     * Delivers one notification. Throws (so BullMQ retries with backoff) only for a transient failure that is not
     * the last attempt; `retryDelayMs` is roughly when that retry runs (the sweeper waits longer than that).
     */
    async deliver(logId: string, opts: { finalAttempt: boolean; retryDelayMs: number }): Promise<DeliveryOutcome> {
      const token = randomUUID();
      const claimed = await exec(
        `update notification_logs set claim_token = ?, lease_until = now() + ? * interval '1 millisecond', attempts = attempts + 1
          where id = ? and status = 'pending' and (claim_token is null or lease_until < now())
          returning id, user_id, notification_type, subject, content, recipient, html_content, payload, request_key, attempts`,
        [token, deps.leaseMs, logId],
      );
      const row = claimed[0];
      if (!row) {
        const state = await exec("select status from notification_logs where id = ?", [logId]);
        if (!state[0]) return "gone"; // the user was deleted
        return state[0].status === "pending" ? "claimed-elsewhere" : "done-before";
      }
      const id = String(row.id);
      const stopHeartbeat = heartbeat(id, token);
      try {
        return await claimedDelivery(row, id, token, opts);
      } finally {
        stopHeartbeat();
      }
    },

    /**
     * Re-enqueues pending rows nobody is working on: their job was lost (crash between commit and enqueue, Redis
     * flushed) or their worker died holding the claim. A claim whose lease ran out is dead (a live worker's
     * heartbeat keeps it fresh) and is re-enqueued at once; an unclaimed row waits `sweepGraceMs` first, so a job
     * still in the queue or a BullMQ retry still due runs before a sweeper copy. Job ids carry the attempt count, so
     * an expired claim gets a fresh job while one still waiting in the queue is not duplicated. Also purges
     * idempotency keys after 7 days.
     */
    async sweep(): Promise<{ requeued: number; purged: number }> {
      const rows = await exec(
        `select id, attempts, claim_token is null as unclaimed from notification_logs
          where status = 'pending'
            and ((claim_token is not null and lease_until < now())
              or (claim_token is null and coalesce(lease_until, created_at) < now() - ? * interval '1 millisecond'))
          order by id limit 1000`,
        [deps.sweepGraceMs],
      );
      if (rows.length > 0) {
        await deps.queue.addBulk(rows.map((r) => ({ name: SEND_JOB, data: { logId: String(r.id) }, opts: { jobId: sendJobId(String(r.id), Number(r.attempts)) } })));
        await rescueTakenJobs(rows.filter((r) => r.unclaimed === true).map((r) => sendJobId(String(r.id), Number(r.attempts))));
      }
      const purged = await exec(
        "delete from notification_requests where id in (select id from notification_requests where created_at < now() - interval '7 days' limit 10000) returning id",
        [],
      );
      return { requeued: rows.length, purged: purged.length };
    },
  };

}

export type Delivery = ReturnType<typeof createDelivery>;
