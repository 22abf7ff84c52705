/** `user_devices`: push tokens; a token belongs to one user. */
import { defineEntity, p } from "@mikro-orm/core";
import { User } from "../../user/entities/index.ts";

export const DEVICE_TYPES = ["ios", "android", "web"] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

export const UserDeviceSchema = defineEntity({
  name: "UserDevice",
  tableName: "user_devices",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    user: () => p.manyToOne(User).ref().deleteRule("cascade"),
    deviceToken: p.string().length(500).unique(),
    deviceType: p.enum(DEVICE_TYPES).columnType("varchar(20)"),
    deviceName: p.string().length(100).default(""),
    isActive: p.boolean().default(true),
    registeredAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    lastUsedAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class UserDevice extends UserDeviceSchema.class {}
UserDeviceSchema.setClass(UserDevice);
