/** `notification_preferences`: one per user: which emails and pushes they want, and when the weekly digest goes out. */
import { defineEntity, p } from "@mikro-orm/core";
import { User } from "../../user/entities/index.ts";

export const NotificationPreferenceSchema = defineEntity({
  name: "NotificationPreference",
  tableName: "notification_preferences",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    user: () => p.oneToOne(User).ref().owner().unique().deleteRule("cascade"),
    weeklyDigest: p.boolean().default(true),
    recommendationAlerts: p.boolean().default(true),
    trendingAlerts: p.boolean().default(false),
    newReleaseAlerts: p.boolean().default(false),
    pushRecommendations: p.boolean().default(true),
    pushTrending: p.boolean().default(false),
    pushNewReleases: p.boolean().default(false),
    /** ISO weekday: 1 = Monday … 7 = Sunday. */
    digestDay: p.integer().default(1),
    /** Local time of day `HH:MM:SS` in `timezone`. */
    digestTime: p.time().default("09:00:00"),
    /** IANA zone name. */
    timezone: p.string().length(50).default("UTC"),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

export class NotificationPreference extends NotificationPreferenceSchema.class {}
NotificationPreferenceSchema.setClass(NotificationPreference);
