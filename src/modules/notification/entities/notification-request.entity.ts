/**
 * `notification_requests` (migration 0005): one row per logical notification, unique by idempotency key, so a
 * retried job, a repeated staff call or a second scheduler run never queues the same notification twice.
 */
import { defineEntity, p } from "@mikro-orm/core";
import { User } from "../../user/entities/index.ts";

export const NotificationRequestSchema = defineEntity({
  name: "NotificationRequest",
  tableName: "notification_requests",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    idempotencyKey: p.string().length(200).unique(),
    user: () => p.manyToOne(User).ref().deleteRule("cascade"),
    /** digest, recommendation_alert, trending_alert, new_release_alert or manual (free text: new kinds need no migration). */
    kind: p.string().length(30),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class NotificationRequest extends NotificationRequestSchema.class {}
NotificationRequestSchema.setClass(NotificationRequest);
