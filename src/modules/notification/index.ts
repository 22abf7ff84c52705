/**
 * The notification module: preferences, devices, templates, the outbox and the delivery workers, and the tracking
 * endpoints. Other modules use only what is exported here.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import type { Config } from "../../platform/config.ts";
import type { Logger } from "../../platform/logger.ts";
import type { Queues } from "../../platform/queues.ts";
import { createAlertTriggers } from "./alert-triggers.ts";
import { createAlerts } from "./alerts.ts";
import { createBroadcast } from "./broadcast.ts";
import { createDelivery } from "./delivery.ts";
import { createDigests } from "./digests.ts";
import { createDevices } from "./devices.ts";
import { createEmailSender, type EmailSender } from "./email-sender.ts";
import { createHistory } from "./history.ts";
import { createNotificationProcessors, scheduleNotificationJobs } from "./notification.jobs.ts";
import { createNotificationRpc } from "./notification.rpc.ts";
import { createOutbox } from "./outbox.ts";
import { createPreferences } from "./preferences.ts";
import { createPushSender } from "./push-sender.ts";
import { createTemplates } from "./templates.ts";
import { createTrackingLinks, createTrackingRoute, type HttpRoute } from "./tracking.ts";
import type { NotificationEvaluationHooks } from "./sent-lists.ts";

export type { QueueRequest, QueueResult, RequestKind } from "./outbox.ts";
export type { AlertKind, AlertMovie } from "./alerts.ts";
export type { HttpRoute } from "./tracking.ts";
export type { NotificationEvaluationHooks, SentList } from "./sent-lists.ts";

export interface NotificationModuleDeps {
  config: Config;
  log: Logger;
  orm: MikroORM;
  redis: Redis;
  queues: Pick<Queues, "delivery">;
  /** Online evaluation: impressions of digests and alerts, clicks on their movie links (see sent-lists.ts). */
  evaluation?: NotificationEvaluationHooks;
}

/** Builds the module once per process (server and worker alike); senders connect on first use. */
export function createNotificationModule(deps: NotificationModuleDeps) {
  const cfg = deps.config.notification;
  const links = createTrackingLinks(cfg.publicBaseUrl, cfg.trackingSecret);
  const preferences = createPreferences(deps);
  const devices = createDevices(deps);
  const templates = createTemplates(deps);
  const history = createHistory(deps);
  const outbox = createOutbox({ orm: deps.orm, queue: deps.queues.delivery, log: deps.log, alertsPerDay: cfg.alertsPerDay, unsubscribeUrl: links.unsubscribe });
  let email: EmailSender | undefined;
  const lazyEmail: EmailSender = {
    send: (m) => (email ??= createEmailSender(cfg, links)).send(m),
    close: () => email?.close(),
  };
  const delivery = createDelivery({
    orm: deps.orm,
    queue: deps.queues.delivery,
    log: deps.log,
    email: lazyEmail,
    push: createPushSender(cfg),
    devices,
    links,
    leaseMs: cfg.leaseMs,
    sweepGraceMs: Math.max(cfg.sweepIntervalMs, 1000),
  });
  const movieUrl = (id: string) => `${cfg.publicBaseUrl}/movies/${id}`;
  const digests = createDigests({ orm: deps.orm, redis: deps.redis, log: deps.log, outbox, templates, movieUrl, tickMs: cfg.digestTickMs, evaluation: deps.evaluation });
  // A recommendation is alert-worthy from this score up (scores are 0–1).
  const minScore = 0.8;
  const alerts = createAlerts({ outbox, templates, movieUrl, minScore, evaluation: deps.evaluation });
  const triggers = createAlertTriggers({ orm: deps.orm, log: deps.log, alerts, minScore });
  const broadcast = createBroadcast({ orm: deps.orm, outbox, maxRecipients: cfg.maxRecipients });
  const rpc = createNotificationRpc({ preferences, devices, templates, history, outbox, broadcast });
  const trackingRoute = createTrackingRoute({ orm: deps.orm, secret: cfg.trackingSecret, log: deps.log, evaluation: deps.evaluation });
  return {
    rpc: Object.assign(rpc, { [HTTP_ROUTE]: trackingRoute }),
    trackingRoute,
    outbox,
    broadcast,
    delivery,
    digests,
    /** Recommendation, trending and new-release alerts (for the recommendation and catalogue modules). */
    alerts,
    /** What sets the alerts off: the hook after a rescoring, and the daily new-release/trending run. */
    triggers,
    /**
     * The recommendation module's hook, called after a rescoring transaction has committed. Best effort: an alert
     * that cannot be queued is logged, never fails the rescoring (whose rows are already committed).
     */
    recommendationsRescored: async (userIds: readonly string[]): Promise<void> => {
      try {
        await triggers.recommendationsRescored(userIds);
      } catch (e) {
        deps.log.warn({ err: (e as Error).message, users: userIds.length }, "recommendation alerts could not be queued");
      }
    },
    templates,
    preferences,
    devices,
    links,
    /** Processors of the `delivery` queue. */
    processors: createNotificationProcessors({ delivery, digestTick: (now) => digests.tick(now), dailyAlerts: (now) => triggers.daily(now) }),
    /** Registers the repeating sweep and digest jobs (call once per worker process). */
    schedule: () =>
      scheduleNotificationJobs(deps.queues.delivery as never, { sweepIntervalMs: cfg.sweepIntervalMs, digestTickMs: cfg.digestTickMs, alertsCron: cfg.alertsCron }),
    close: () => lazyEmail.close(),
  };
}

/**
 * The tracking endpoints travel with the service implementation under this key, so that the server's plain-HTTP
 * fallback can reach them without a new server option (connect ignores symbol keys of an implementation).
 */
export const HTTP_ROUTE = Symbol("movierec.notification.httpRoute");

/** For the server's fallback: serves a tracking/unsubscribe path when `impl` carries the route; false otherwise. */
export function routeNotificationHttp(impl: object | undefined, req: IncomingMessage, res: ServerResponse): boolean {
  const route = (impl as { [HTTP_ROUTE]?: HttpRoute } | undefined)?.[HTTP_ROUTE];
  return route ? route(req, res) : false;
}

/**
 * For the worker: the `delivery` queue's processors, the registration of its repeating jobs (the worker's
 * schedule keeper calls it at start and whenever Redis lost them) and the hook the recommendation module calls
 * after rescoring, from one module instance.
 */
export function createNotificationWorker(deps: NotificationModuleDeps) {
  const m = createNotificationModule(deps);
  return { processors: m.processors, schedule: m.schedule, recommendationsRescored: m.recommendationsRescored };
}
