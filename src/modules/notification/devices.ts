/**
 * Push devices. A token belongs to one user: registering a token another user owns moves it (the phone changed
 * hands or someone else signed in on it). A token the provider reports gone is deactivated, not deleted, so the
 * owner sees why pushes stopped.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import { InvalidInputError } from "../../platform/errors.ts";
import type { DeviceType } from "./entities/index.ts";
import { decodePageToken, encodePageToken, pageSize } from "./cursor.ts";

export interface Device {
  id: string;
  userId: string;
  deviceToken: string;
  deviceType: DeviceType;
  deviceName: string;
  isActive: boolean;
  registeredAt: Date;
  lastUsedAt: Date;
}

/** A Web Push subscription as browsers produce it (`PushSubscription.toJSON()`), stored as the web device token. */
export interface WebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** Parses a web device token; undefined when it is not a subscription. */
export function parseWebSubscription(token: string): WebPushSubscription | undefined {
  try {
    const s = JSON.parse(token) as WebPushSubscription;
    const u = new URL(s.endpoint);
    if ((u.protocol === "https:" || u.protocol === "http:") && typeof s.keys?.p256dh === "string" && typeof s.keys?.auth === "string") return s;
  } catch {
    // not JSON or not a URL
  }
  return undefined;
}

type Row = Record<string, unknown>;
const toDevice = (r: Row): Device => ({
  id: String(r.id),
  userId: String(r.user_id),
  deviceToken: r.device_token as string,
  deviceType: r.device_type as DeviceType,
  deviceName: r.device_name as string,
  isActive: r.is_active as boolean,
  registeredAt: new Date(r.registered_at as string),
  lastUsedAt: new Date(r.last_used_at as string),
});

export function createDevices(deps: { orm: MikroORM }) {
  return {
    /** Registers or refreshes a token for `userId` (moving it from whoever had it), active again. */
    async register(userId: string, token: string, type: DeviceType, name: string): Promise<Device> {
      if (type === "web" && !parseWebSubscription(token)) {
        throw new InvalidInputError("a web device token is the JSON of a PushSubscription (endpoint and keys.p256dh, keys.auth)", "device_token");
      }
      const rows = await deps.orm.em.fork().execute<Row[]>(
        `insert into user_devices (user_id, device_token, device_type, device_name) values (?, ?, ?, ?)
         on conflict (device_token) do update set user_id = excluded.user_id, device_type = excluded.device_type,
           device_name = excluded.device_name, is_active = true, last_used_at = now()
         returning *`,
        [userId, token, type, name],
      );
      return toDevice(rows[0]!);
    },

    /** The user's devices, most recently used first. */
    async list(userId: string, req: { pageSize: number; pageToken: string }): Promise<{ devices: Device[]; nextPageToken: string }> {
      const size = pageSize(req.pageSize);
      const after = decodePageToken(req.pageToken, ["time", "id"]);
      const rows = await deps.orm.em.fork().execute<Row[]>(
        `select * from user_devices where user_id = ? ${after ? "and (last_used_at, id) < (?::timestamptz, ?::bigint)" : ""}
         order by last_used_at desc, id desc limit ?`,
        after ? [userId, after[0], after[1], size + 1] : [userId, size + 1],
      );
      const devices = rows.slice(0, size).map(toDevice);
      const last = rows.length > size ? rows[size - 1]! : undefined;
      return { devices, nextPageToken: last ? encodePageToken([new Date(last.last_used_at as string).toISOString(), String(last.id)]) : "" };
    },

    /** Deletes one of the user's devices by id or token; false when there was none (retries are harmless). */
    async unregister(userId: string, target: { deviceId?: string; deviceToken?: string }): Promise<boolean> {
      const em = deps.orm.em.fork();
      const rows = target.deviceId !== undefined
        ? await em.execute<Row[]>("delete from user_devices where user_id = ? and id = ? returning id", [userId, target.deviceId])
        : await em.execute<Row[]>("delete from user_devices where user_id = ? and device_token = ? returning id", [userId, target.deviceToken ?? ""]);
      return rows.length > 0;
    },

    async get(deviceId: string): Promise<Device | undefined> {
      const rows = await deps.orm.em.fork().execute<Row[]>("select * from user_devices where id = ?", [deviceId]);
      return rows[0] ? toDevice(rows[0]) : undefined;
    },

    /** The provider said the token is gone (404/410, FCM UNREGISTERED): stop sending to it. */
    async deactivate(deviceId: string): Promise<void> {
      await deps.orm.em.fork().execute("update user_devices set is_active = false where id = ?", [deviceId]);
    },
  };
}

export type DeviceStore = ReturnType<typeof createDevices>;
