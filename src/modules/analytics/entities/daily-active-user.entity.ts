/**
 * `analytics_daily_active_users` (not in the design): one row per UTC day and signed-in user with any activity that
 * day, rebuilt per day by the aggregation job; the daily and weekly active-user report counts these pairs instead of
 * re-reading the event log (see migration 0006).
 */
import { defineEntity, p } from "@mikro-orm/core";
import { User } from "../../user/entities/index.ts";

export const DailyActiveUserSchema = defineEntity({
  name: "DailyActiveUser",
  tableName: "analytics_daily_active_users",
  uniques: [{ properties: ["day", "user"] }],
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    /** UTC day, `YYYY-MM-DD`. */
    day: p.date(),
    user: () => p.manyToOne(User).ref().deleteRule("cascade"),
  },
});

export class DailyActiveUser extends DailyActiveUserSchema.class {}
DailyActiveUserSchema.setClass(DailyActiveUser);
