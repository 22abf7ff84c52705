/** A user's notification history, and delivery counts for staff. */
import type { MikroORM } from "@mikro-orm/postgresql";
import { InvalidInputError } from "../../platform/errors.ts";
import type { NotificationStatus, NotificationType, TemplateType } from "./entities/index.ts";
import { decodePageToken, encodePageToken, pageSize } from "./cursor.ts";
import { toNotificationView, VIEW_COLUMNS, type NotificationView } from "./notification-view.ts";

export interface DeliveryStatsRow {
  type: NotificationType;
  templateType: TemplateType | null;
  counts: Record<NotificationStatus, number>;
  total: number;
  /** UTC day "YYYY-MM-DD" of a per-day row; undefined for a whole-range row. */
  date?: string;
}

/** Longest range of one stats call: the per-day rows stay bounded (days × channels × template types). */
export const MAX_STATS_DAYS = 366;

type Row = Record<string, unknown>;

export function createHistory(deps: { orm: MikroORM }) {
  return {
    /** Newest first; optional status and type filters. Without a user (staff), every user's: e.g. recent failures. */
    async list(userId: string | undefined, req: { pageSize: number; pageToken: string; status?: NotificationStatus; type?: NotificationType }) {
      const size = pageSize(req.pageSize);
      const after = decodePageToken(req.pageToken, ["time", "id"]);
      const where: string[] = [];
      const params: unknown[] = [];
      if (userId !== undefined) (where.push("user_id = ?"), params.push(userId));
      if (req.status) (where.push("status = ?"), params.push(req.status));
      if (req.type) (where.push("notification_type = ?"), params.push(req.type));
      if (after) (where.push("(created_at, id) < (?::timestamptz, ?::bigint)"), params.push(after[0], after[1]));
      const rows = await deps.orm.em.fork().execute<Row[]>(
        `select ${VIEW_COLUMNS} from notification_logs ${where.length ? `where ${where.join(" and ")}` : ""} order by created_at desc, id desc limit ?`,
        [...params, size + 1],
      );
      const notifications: NotificationView[] = rows.slice(0, size).map(toNotificationView);
      const last = notifications[notifications.length - 1];
      return { notifications, nextPageToken: rows.length > size && last ? encodePageToken([last.createdAt.toISOString(), last.id]) : "" };
    },

    /**
     * Counts by channel and template type over whole UTC days [startDate, endDate], for the whole range and per
     * day (one scan grouped by day; the range totals are summed from the day rows).
     */
    async stats(req: { startDate: string; endDate: string; type?: NotificationType; templateType?: TemplateType }): Promise<{ total: DeliveryStatsRow[]; daily: DeliveryStatsRow[] }> {
      const days = (Date.parse(`${req.endDate}T00:00:00Z`) - Date.parse(`${req.startDate}T00:00:00Z`)) / 86_400_000 + 1;
      if (!Number.isFinite(days) || days < 1) throw new InvalidInputError("start_date must be a date not after end_date", "start_date");
      if (days > MAX_STATS_DAYS) throw new InvalidInputError(`the range may span at most ${MAX_STATS_DAYS} days`, "end_date");
      const where = ["l.created_at >= (?::date)::timestamp at time zone 'UTC'", "l.created_at < (?::date + 1)::timestamp at time zone 'UTC'"];
      const params: unknown[] = [req.startDate, req.endDate];
      if (req.type) (where.push("l.notification_type = ?"), params.push(req.type));
      if (req.templateType) (where.push("t.template_type = ?"), params.push(req.templateType));
      const rows = await deps.orm.em.fork().execute<Row[]>(
        `select to_char(l.created_at at time zone 'UTC', 'YYYY-MM-DD') as day, l.notification_type, t.template_type,
            count(*) filter (where l.status = 'pending')::int as pending, count(*) filter (where l.status = 'sent')::int as sent,
            count(*) filter (where l.status = 'delivered')::int as delivered, count(*) filter (where l.status = 'failed')::int as failed,
            count(*) filter (where l.status = 'opened')::int as opened, count(*) filter (where l.status = 'clicked')::int as clicked,
            count(*)::int as total
           from notification_logs l left join notification_templates t on t.id = l.template_id
          where ${where.join(" and ")} group by 1, 2, 3 order by 1, 2, 3 nulls first`,
        params,
      );
      const daily: DeliveryStatsRow[] = rows.map((r) => ({
        type: r.notification_type as NotificationType,
        templateType: (r.template_type as TemplateType | null) ?? null,
        counts: { pending: r.pending, sent: r.sent, delivered: r.delivered, failed: r.failed, opened: r.opened, clicked: r.clicked } as Record<NotificationStatus, number>,
        total: Number(r.total),
        date: r.day as string,
      }));
      const byGroup = new Map<string, DeliveryStatsRow>();
      for (const d of daily) {
        const k = `${d.type}|${d.templateType ?? ""}`;
        const t = byGroup.get(k) ?? { type: d.type, templateType: d.templateType, counts: { pending: 0, sent: 0, delivered: 0, failed: 0, opened: 0, clicked: 0 }, total: 0 };
        for (const s of Object.keys(t.counts) as NotificationStatus[]) t.counts[s] += d.counts[s];
        t.total += d.total;
        byGroup.set(k, t);
      }
      // Same order as before: by channel, then template type with "no template" first.
      const total = [...byGroup.values()].sort((a, b) => a.type.localeCompare(b.type) || (a.templateType === null ? -1 : b.templateType === null ? 1 : a.templateType.localeCompare(b.templateType)));
      return { total, daily };
    },
  };
}

export type History = ReturnType<typeof createHistory>;
