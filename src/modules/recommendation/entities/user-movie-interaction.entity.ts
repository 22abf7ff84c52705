/**
 * `user_movie_interactions`: one row per (user, movie, interaction type), the implicit and explicit feedback the
 * recommender trains on. `rating` (1–5) is set exactly when the type is 'rating' (a database CHECK enforces both).
 */
import { defineEntity, p } from "@mikro-orm/core";
import { Movie } from "../../catalog/entities/index.ts";
import { User } from "../../user/entities/index.ts";

export const INTERACTION_TYPES = ["view", "like", "dislike", "favorite", "watchlist", "rating", "share"] as const;
export type InteractionType = (typeof INTERACTION_TYPES)[number];
export const INTERACTION_SOURCES = ["web", "mobile", "email", "push"] as const;
export type InteractionSource = (typeof INTERACTION_SOURCES)[number];

export const UserMovieInteractionSchema = defineEntity({
  name: "UserMovieInteraction",
  tableName: "user_movie_interactions",
  uniques: [{ name: "unique_user_movie_interaction", properties: ["user", "movie", "interactionType"] }],
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    user: () => p.manyToOne(User).ref().deleteRule("cascade").foreignKeyName("fk_interactions_user"),
    movie: () => p.manyToOne(Movie).ref().deleteRule("cascade"),
    interactionType: p.enum(INTERACTION_TYPES).columnType("varchar(20)"),
    rating: p.integer().nullable(),
    source: p.enum(INTERACTION_SOURCES).columnType("varchar(30)").default("web"),
    timestamp: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class UserMovieInteraction extends UserMovieInteractionSchema.class {}
UserMovieInteractionSchema.setClass(UserMovieInteraction);
