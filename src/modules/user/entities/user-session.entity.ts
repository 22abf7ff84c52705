/** `user_sessions` (migration 0003): one login = one refresh-token family, revoked as a whole. */
import { defineEntity, p } from "@mikro-orm/core";
import { User } from "./user.entity.ts";

export const SESSION_REVOKE_REASONS = ["logout", "logout_all", "password_changed", "token_reuse", "account_deleted", "deactivated"] as const;
export type SessionRevokeReason = (typeof SESSION_REVOKE_REASONS)[number];

export const UserSessionSchema = defineEntity({
  name: "UserSession",
  tableName: "user_sessions",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    user: () => p.manyToOne(User).ref().deleteRule("cascade"),
    userAgent: p.string().length(300).default(""),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    lastUsedAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    revokedReason: p.string().length(30).nullable(),
  },
});

export class UserSession extends UserSessionSchema.class {}
UserSessionSchema.setClass(UserSession);
