/**
 * `user_activity_logs`: raw behaviour events (anonymous ones have no user). Kept when the user or movie is deleted
 * (their reference becomes null). Partitioned by month of `timestamp`; the database primary key is (id, timestamp),
 * but `id` alone is unique (one identity sequence), so the entity keeps `id` as its key.
 */
import { defineEntity, p } from "@mikro-orm/core";
import { Movie } from "../../catalog/entities/index.ts";
import { User } from "../../user/entities/index.ts";

export const ACTION_TYPES = [
  "movie_view",
  "movie_search",
  "recommendation_click",
  "email_open",
  "email_click",
  "push_click",
  "rating_submit",
  "review_submit",
  "favorite_add",
  "watchlist_add",
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];
export const ACTIVITY_SOURCES = ["web", "mobile", "email", "push"] as const;
export type ActivitySource = (typeof ACTIVITY_SOURCES)[number];

export const UserActivityLogSchema = defineEntity({
  name: "UserActivityLog",
  tableName: "user_activity_logs",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    user: () => p.manyToOne(User).ref().nullable().deleteRule("set null").foreignKeyName("fk_activity_logs_user"),
    sessionId: p.string().length(100),
    actionType: p.enum(ACTION_TYPES).columnType("varchar(30)"),
    movie: () => p.manyToOne(Movie).ref().nullable().deleteRule("set null"),
    /** IPv4 or IPv6 address (`inet`; PostgreSQL rejects anything else). */
    ipAddress: p.string().columnType("inet"),
    userAgent: p.text(),
    referer: p.string().length(500).nullable(),
    source: p.enum(ACTIVITY_SOURCES).columnType("varchar(30)"),
    /** Free-form JSON object (GIN-indexed: query with containment, `{ metadata: { $contains: … } }`). */
    metadata: p.json<Record<string, unknown>>().defaultRaw("'{}'").onCreate(() => ({})),
    timestamp: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class UserActivityLog extends UserActivityLogSchema.class {}
UserActivityLogSchema.setClass(UserActivityLog);
