/** `user_refresh_tokens` (migration 0003): every refresh token of a session, by SHA-256 hash only. */
import { defineEntity, p } from "@mikro-orm/core";
import { UserSession } from "./user-session.entity.ts";

export const UserRefreshTokenSchema = defineEntity({
  name: "UserRefreshToken",
  tableName: "user_refresh_tokens",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    session: () => p.manyToOne(UserSession).ref().deleteRule("cascade"),
    /** Hex SHA-256 of the token: a database leak gives no usable token. */
    tokenHash: p.string().length(64).unique(),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    /** Set when the token was exchanged; presenting it again means it was copied. */
    usedAt: p.datetime().nullable(),
  },
});

export class UserRefreshToken extends UserRefreshTokenSchema.class {}
UserRefreshTokenSchema.setClass(UserRefreshToken);
