/** `users`: accounts (Django AbstractUser fields plus ours). Email is unique case-insensitively (index on lower(email)). */
import { defineEntity, p } from "@mikro-orm/core";

export const UserSchema = defineEntity({
  name: "User",
  tableName: "users",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    /** A password hash, never the password. */
    password: p.string().length(128).hidden(),
    lastLogin: p.datetime().nullable(),
    isSuperuser: p.boolean().default(false),
    username: p.string().length(150).unique(),
    firstName: p.string().length(150).default(""),
    lastName: p.string().length(150).default(""),
    email: p.string().length(254),
    isStaff: p.boolean().default(false),
    isActive: p.boolean().default(true),
    dateJoined: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    /** `YYYY-MM-DD`. */
    dateOfBirth: p.date().nullable(),
    isPremium: p.boolean().default(false),
    /** AES-256-GCM ciphertext `keyId:base64url` (migration 0003 widened it), never the number in clear. */
    phoneNumber: p.string().length(128).nullable(),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

export class User extends UserSchema.class {}
UserSchema.setClass(User);
