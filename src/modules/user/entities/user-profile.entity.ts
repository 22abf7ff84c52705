/** `user_profiles`: one per user, deleted with it. */
import { defineEntity, p } from "@mikro-orm/core";
import { User } from "./user.entity.ts";

export const UserProfileSchema = defineEntity({
  name: "UserProfile",
  tableName: "user_profiles",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    user: () => p.oneToOne(User).ref().owner().unique().deleteRule("cascade").foreignKeyName("fk_user_profiles_user"),
    bio: p.text().default(""),
    avatar: p.string().length(200).nullable(),
    preferredLanguage: p.string().length(10).default("en"),
    timezone: p.string().length(50).default("UTC"),
    country: p.string().length(50).default(""),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

export class UserProfile extends UserProfileSchema.class {}
UserProfileSchema.setClass(UserProfile);
