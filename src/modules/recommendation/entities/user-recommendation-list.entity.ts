/**
 * `user_recommendation_lists` (migration 0018): the scored store — one row per (user, algorithm) list, its movies and
 * scores in rank order. What serving, digests, alerts, the data export and the daily aggregation read; the
 * per-item `user_recommendations` rows exist only where a click or feedback refers to an item (list-handles.ts).
 * Up to two per (user, algorithm): the current list and the one it replaced.
 */
import { defineEntity, p } from "@mikro-orm/core";
import { User } from "../../user/entities/index.ts";

export const UserRecommendationListSchema = defineEntity({
  name: "UserRecommendationList",
  tableName: "user_recommendation_lists",
  indexes: [{ name: "idx_recommendation_lists_user", expression: "create index idx_recommendation_lists_user on user_recommendation_lists (user_id, algorithm, id desc)" }],
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    user: () => p.manyToOne(User).ref().deleteRule("cascade"),
    algorithm: p.string().length(50),
    generatedAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    /** Movie ids, best first (no foreign key: a deleted movie is skipped when read). */
    movieIds: p.array<string>().columnType("bigint[]"),
    /** Scores in [0, 1], parallel to `movieIds`. */
    scores: p.array<number>(Number, String).columnType("real[]"),
  },
});

export class UserRecommendationList extends UserRecommendationListSchema.class {}
UserRecommendationListSchema.setClass(UserRecommendationList);
