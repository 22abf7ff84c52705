/**
 * `user_recommendations`: one row per (user, movie, algorithm) that a click or feedback refers to, written on demand
 * from the scored lists (`user_recommendation_lists`, list-handles.ts); the design made it the scored store itself.
 * `algorithm` is free text (e.g. 'collaborative', 'content_based', 'hybrid', 'trending') so new models need no migration.
 */
import { defineEntity, p } from "@mikro-orm/core";
import { Movie } from "../../catalog/entities/index.ts";
import { User } from "../../user/entities/index.ts";

export const UserRecommendationSchema = defineEntity({
  name: "UserRecommendation",
  tableName: "user_recommendations",
  uniques: [{ name: "unique_user_movie_algorithm", properties: ["user", "movie", "algorithm"] }],
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    user: () => p.manyToOne(User).ref().deleteRule("cascade"),
    movie: () => p.manyToOne(Movie).ref().deleteRule("cascade"),
    /** Confidence in [0, 1]. */
    score: p.double(),
    algorithm: p.string().length(50),
    generatedAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    clicked: p.boolean().default(false),
    /** Set only when `clicked`. */
    clickedAt: p.datetime().nullable(),
  },
});

export class UserRecommendation extends UserRecommendationSchema.class {}
UserRecommendationSchema.setClass(UserRecommendation);
