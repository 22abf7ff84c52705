/**
 * `notification_logs`: every notification sent or to be sent, and its delivery tracking.
 * Partitioned by quarter of `created_at`; the database primary key is (id, created_at), but `id` alone is unique
 * (one identity sequence), so the entity keeps `id` as its key. Filter on `createdAt` where possible to prune partitions.
 */
import { defineEntity, p } from "@mikro-orm/core";
import { User } from "../../user/entities/index.ts";
import { NotificationTemplate } from "./notification-template.entity.ts";

export const NOTIFICATION_TYPES = ["email", "push"] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];
export const NOTIFICATION_STATUSES = ["pending", "sent", "delivered", "failed", "opened", "clicked"] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export const NotificationLogSchema = defineEntity({
  name: "NotificationLog",
  tableName: "notification_logs",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    user: () => p.manyToOne(User).ref().deleteRule("cascade"),
    template: () => p.manyToOne(NotificationTemplate).ref().nullable().deleteRule("set null"),
    notificationType: p.enum(NOTIFICATION_TYPES).columnType("varchar(30)"),
    subject: p.string().length(200),
    content: p.text(),
    /** Email address or device token. */
    recipient: p.string().length(200),
    status: p.enum(NOTIFICATION_STATUSES).columnType("varchar(20)").default("pending"),
    /** Provider message id (SendGrid, Firebase, …). */
    externalId: p.string().length(100).nullable(),
    errorMessage: p.text().default(""),
    sentAt: p.datetime().nullable(),
    deliveredAt: p.datetime().nullable(),
    openedAt: p.datetime().nullable(),
    clickedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    // Outbox state (migration 0005): see src/modules/notification/README.md, "Exactly once".
    /** Idempotency key of the logical notification (notification_requests) this row belongs to. */
    requestKey: p.string().length(200).nullable(),
    /** Rendered HTML part of an email, fixed when queued. */
    htmlContent: p.text().default(""),
    /** Push extras (click URL, tag), fixed when queued. */
    payload: p.json<Record<string, unknown>>().defaultRaw("'{}'").onCreate(() => ({})),
    /** Claims taken so far (each one a send attempt). */
    attempts: p.integer().default(0),
    /** The worker claim: set with `leaseUntil` while a worker sends; a claim past its lease is taken over. */
    claimToken: p.uuid().nullable(),
    leaseUntil: p.datetime().nullable(),
  },
});

export class NotificationLog extends NotificationLogSchema.class {}
NotificationLogSchema.setClass(NotificationLog);
