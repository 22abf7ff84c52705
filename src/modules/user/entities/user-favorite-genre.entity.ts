/** `user_favorite_genres`: genres a user picked on their profile; each pair at most once. */
import { defineEntity, p } from "@mikro-orm/core";
import { Genre } from "../../catalog/entities/index.ts";
import { UserProfile } from "./user-profile.entity.ts";

export const UserFavoriteGenreSchema = defineEntity({
  name: "UserFavoriteGenre",
  tableName: "user_favorite_genres",
  uniques: [{ name: "unique_user_favorite_genre", properties: ["profile", "genre"] }],
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    /** Column `userprofile_id`, the design's (Django's) name. */
    profile: () => p.manyToOne(UserProfile).ref().joinColumn("userprofile_id").deleteRule("cascade"),
    genre: () => p.manyToOne(Genre).ref().deleteRule("cascade"),
  },
});

export class UserFavoriteGenre extends UserFavoriteGenreSchema.class {}
UserFavoriteGenreSchema.setClass(UserFavoriteGenre);
