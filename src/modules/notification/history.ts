/** A user's notification history, and delivery counts for staff. */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { NotificationStatus, NotificationType, TemplateType } from "./entities/index.ts";
import { decodeCursor, encodeCursor, pageSize } from "./cursor.ts";
import { toNotificationView, VIEW_COLUMNS, type NotificationView } from "./notification-view.ts";

export interface DeliveryStatsRow {
  type: NotificationType;
  templateType: TemplateType | null;
  counts: Record<NotificationStatus, number>;
  total: number;
}

type Row = Record<string, unknown>;

export function createHistory(deps: { orm: MikroORM }) {
  return {
    /** Newest first; optional status and type filters. */
    async list(userId: string, req: { pageSize: number; pageToken: string; status?: NotificationStatus; type?: NotificationType }) {
      const size = pageSize(req.pageSize);
      const after = decodeCursor(req.pageToken, 2) as [string, string] | undefined;
      const where = ["user_id = ?"];
      const params: unknown[] = [userId];
      if (req.status) (where.push("status = ?"), params.push(req.status));
      if (req.type) (where.push("notification_type = ?"), params.push(req.type));
      if (after) (where.push("(created_at, id) < (?::timestamptz, ?::bigint)"), params.push(after[0], after[1]));
      const rows = await deps.orm.em.fork().execute<Row[]>(
        `select ${VIEW_COLUMNS} from notification_logs where ${where.join(" and ")} order by created_at desc, id desc limit ?`,
        [...params, size + 1],
      );
      const notifications: NotificationView[] = rows.slice(0, size).map(toNotificationView);
      const last = notifications[notifications.length - 1];
      return { notifications, nextPageToken: rows.length > size && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : "" };
    },

    /** Counts by channel and template type over whole UTC days [startDate, endDate]. */
    async stats(req: { startDate: string; endDate: string; type?: NotificationType; templateType?: TemplateType }): Promise<DeliveryStatsRow[]> {
      const where = ["l.created_at >= (?::date)::timestamp at time zone 'UTC'", "l.created_at < (?::date + 1)::timestamp at time zone 'UTC'"];
      const params: unknown[] = [req.startDate, req.endDate];
      if (req.type) (where.push("l.notification_type = ?"), params.push(req.type));
      if (req.templateType) (where.push("t.template_type = ?"), params.push(req.templateType));
      const rows = await deps.orm.em.fork().execute<Row[]>(
        `select l.notification_type, t.template_type,
            count(*) filter (where l.status = 'pending')::int as pending, count(*) filter (where l.status = 'sent')::int as sent,
            count(*) filter (where l.status = 'delivered')::int as delivered, count(*) filter (where l.status = 'failed')::int as failed,
            count(*) filter (where l.status = 'opened')::int as opened, count(*) filter (where l.status = 'clicked')::int as clicked,
            count(*)::int as total
           from notification_logs l left join notification_templates t on t.id = l.template_id
          where ${where.join(" and ")} group by 1, 2 order by 1, 2 nulls first`,
        params,
      );
      return rows.map((r) => ({
        type: r.notification_type as NotificationType,
        templateType: (r.template_type as TemplateType | null) ?? null,
        counts: { pending: r.pending, sent: r.sent, delivered: r.delivered, failed: r.failed, opened: r.opened, clicked: r.clicked } as Record<NotificationStatus, number>,
        total: Number(r.total),
      }));
    },
  };
}

export type History = ReturnType<typeof createHistory>;
