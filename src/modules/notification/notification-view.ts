/** A notification_logs row in domain form, and the SQL that reads it. */
import type { NotificationStatus, NotificationType } from "./entities/index.ts";

export interface NotificationView {
  id: string;
  userId: string;
  templateId: string | null;
  type: NotificationType;
  subject: string;
  content: string;
  recipient: string;
  status: NotificationStatus;
  externalId: string | null;
  errorMessage: string;
  sentAt: Date | null;
  deliveredAt: Date | null;
  openedAt: Date | null;
  clickedAt: Date | null;
  createdAt: Date;
}

/** Columns of notification_logs that `toNotificationView` reads. */
export const VIEW_COLUMNS = `id, user_id, template_id, notification_type, subject, content, recipient, status, external_id, error_message,
  sent_at, delivered_at, opened_at, clicked_at, created_at`;

const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));

export function toNotificationView(r: Record<string, unknown>): NotificationView {
  return {
    id: String(r.id),
    userId: String(r.user_id),
    templateId: r.template_id === null || r.template_id === undefined ? null : String(r.template_id),
    type: r.notification_type as NotificationType,
    subject: r.subject as string,
    content: r.content as string,
    recipient: r.recipient as string,
    status: r.status as NotificationStatus,
    externalId: (r.external_id as string | null) ?? null,
    errorMessage: (r.error_message as string) ?? "",
    sentAt: date(r.sent_at),
    deliveredAt: date(r.delivered_at),
    openedAt: date(r.opened_at),
    clickedAt: date(r.clicked_at),
    createdAt: new Date(r.created_at as string),
  };
}

/** A Postgres array literal of decimal ids, for `= any(?::bigint[])` (ids are validated digits). */
export function idArray(ids: readonly string[]): string {
  for (const id of ids) if (!/^[0-9]+$/.test(id)) throw new Error(`not an id: ${id}`);
  return `{${ids.join(",")}}`;
}
