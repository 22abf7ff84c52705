/** NotificationService handlers: protobuf ⇄ domain mapping and the caller, nothing else. */
import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  DeliveryStatsSchema,
  DeviceSchema,
  DeviceType as DeviceTypeEnum,
  NotificationPreferencesSchema,
  NotificationSchema,
  NotificationStatus as StatusEnum,
  NotificationType as TypeEnum,
  TemplateSchema,
  TemplateType as TemplateTypeEnum,
  type RecipientFilter as RecipientFilterMessage,
  type Template as TemplateMessage,
} from "../../../gen/movierec/notification/v1/notification_pb.js";
import type { NotificationService } from "../../../gen/movierec/notification/v1/notification_service_pb.js";
import { callerKey, requireUser, type Caller } from "../../platform/caller.ts";
import { InvalidInputError, PermissionError, UnauthenticatedError } from "../../platform/errors.ts";
import type { DeviceType, NotificationStatus, NotificationType, TemplateType } from "./entities/index.ts";
import type { Broadcast, RecipientFilter } from "./broadcast.ts";
import type { Device, DeviceStore } from "./devices.ts";
import type { DeliveryStatsRow, History } from "./history.ts";
import type { NotificationView } from "./notification-view.ts";
import type { Outbox } from "./outbox.ts";
import { PREFERENCE_FLAGS, type PreferenceFlag, type Preferences, type PreferencesStore } from "./preferences.ts";
import { renderTemplate } from "./template-engine.ts";
import type { Template, TemplateFields, TemplateStore } from "./templates.ts";

const ts = (d: Date | null | undefined) => (d ? timestampFromDate(d) : undefined);

const TEMPLATE_TYPE_WIRE: Record<TemplateType, TemplateTypeEnum> = {
  email_weekly_digest: TemplateTypeEnum.EMAIL_WEEKLY_DIGEST,
  email_recommendation: TemplateTypeEnum.EMAIL_RECOMMENDATION,
  email_trending: TemplateTypeEnum.EMAIL_TRENDING,
  email_new_release: TemplateTypeEnum.EMAIL_NEW_RELEASE,
  push_trending: TemplateTypeEnum.PUSH_TRENDING,
  push_recommendation: TemplateTypeEnum.PUSH_RECOMMENDATION,
  push_new_release: TemplateTypeEnum.PUSH_NEW_RELEASE,
};
const STATUS_WIRE: Record<NotificationStatus, StatusEnum> = {
  pending: StatusEnum.PENDING,
  sent: StatusEnum.SENT,
  delivered: StatusEnum.DELIVERED,
  failed: StatusEnum.FAILED,
  opened: StatusEnum.OPENED,
  clicked: StatusEnum.CLICKED,
};
const TYPE_WIRE: Record<NotificationType, TypeEnum> = { email: TypeEnum.EMAIL, push: TypeEnum.PUSH };
const DEVICE_WIRE: Record<DeviceType, DeviceTypeEnum> = { ios: DeviceTypeEnum.IOS, android: DeviceTypeEnum.ANDROID, web: DeviceTypeEnum.WEB };

const invert = <K extends string, V extends number>(m: Record<K, V>) => new Map(Object.entries(m).map(([k, v]) => [v as V, k as K]));
const TEMPLATE_TYPE_DOMAIN = invert(TEMPLATE_TYPE_WIRE);
const STATUS_DOMAIN = invert(STATUS_WIRE);
const TYPE_DOMAIN = invert(TYPE_WIRE);
const DEVICE_DOMAIN = invert(DEVICE_WIRE);

function preferencesMessage(p: Preferences) {
  return create(NotificationPreferencesSchema, {
    weeklyDigest: p.weeklyDigest,
    recommendationAlerts: p.recommendationAlerts,
    trendingAlerts: p.trendingAlerts,
    newReleaseAlerts: p.newReleaseAlerts,
    pushRecommendations: p.pushRecommendations,
    pushTrending: p.pushTrending,
    pushNewReleases: p.pushNewReleases,
    digestDay: p.digestDay,
    digestTime: p.digestTime,
    timezone: p.timezone,
    createdAt: ts(p.createdAt),
    updatedAt: ts(p.updatedAt),
  });
}

const deviceMessage = (d: Device) =>
  create(DeviceSchema, {
    id: d.id,
    deviceTokenSuffix: d.deviceToken.slice(-8),
    deviceType: DEVICE_WIRE[d.deviceType],
    deviceName: d.deviceName,
    isActive: d.isActive,
    registeredAt: ts(d.registeredAt),
    lastUsedAt: ts(d.lastUsedAt),
  });

/** Masks an address or token for its owner's listings: enough to recognise, not to harvest. */
function mask(recipient: string): string {
  const at = recipient.indexOf("@");
  if (at > 0) return `${recipient.slice(0, 1)}***${recipient.slice(at)}`;
  return `…${recipient.slice(-8)}`;
}

const notificationMessage = (n: NotificationView, staffView: boolean) =>
  create(NotificationSchema, {
    id: n.id,
    userId: n.userId,
    templateId: n.templateId ?? "",
    type: TYPE_WIRE[n.type],
    subject: n.subject,
    content: n.content,
    recipient: staffView ? n.recipient : mask(n.recipient),
    status: STATUS_WIRE[n.status],
    externalId: n.externalId ?? "",
    errorMessage: n.errorMessage,
    sentAt: ts(n.sentAt),
    deliveredAt: ts(n.deliveredAt),
    openedAt: ts(n.openedAt),
    clickedAt: ts(n.clickedAt),
    createdAt: ts(n.createdAt),
  });

const templateMessage = (t: Template) =>
  create(TemplateSchema, {
    id: t.id,
    name: t.name,
    templateType: TEMPLATE_TYPE_WIRE[t.templateType],
    subject: t.subject,
    htmlContent: t.htmlContent,
    textContent: t.textContent,
    isActive: t.isActive,
    createdAt: ts(t.createdAt),
    updatedAt: ts(t.updatedAt),
  });

function templateType(v: TemplateTypeEnum): TemplateType {
  const t = TEMPLATE_TYPE_DOMAIN.get(v);
  if (!t) throw new InvalidInputError("unknown template type", "template.template_type");
  return t;
}

const templateFields = (m: TemplateMessage | undefined): TemplateFields => ({
  name: m?.name ?? "",
  templateType: templateType(m?.templateType ?? TemplateTypeEnum.UNSPECIFIED),
  subject: m?.subject ?? "",
  htmlContent: m?.htmlContent ?? "",
  textContent: m?.textContent ?? "",
  isActive: m?.isActive ?? false,
});

const recipientFilter = (f: RecipientFilterMessage): RecipientFilter => ({
  activeWithinDays: f.activeWithinDays,
  premium: f.premium,
  favoriteGenreIds: f.favoriteGenreIds,
  joinedAfter: f.joinedAfter ? timestampDate(f.joinedAfter) : undefined,
  joinedBefore: f.joinedBefore ? timestampDate(f.joinedBefore) : undefined,
  preferencesOn: f.preferencesOn.filter((p): p is PreferenceFlag => p in PREFERENCE_FLAGS),
});

const statsMessage = (r: DeliveryStatsRow) =>
  create(DeliveryStatsSchema, {
    type: TYPE_WIRE[r.type],
    templateType: r.templateType ? TEMPLATE_TYPE_WIRE[r.templateType] : TemplateTypeEnum.UNSPECIFIED,
    ...r.counts,
    total: r.total,
    date: r.date ?? "",
  });

/** Staff users, or service tokens the auth interceptor let through for this method's scope. */
function requireStaffOrService(caller: Caller): void {
  if (caller.kind === "service") return;
  if (caller.kind !== "user") throw new UnauthenticatedError("sign in to call this method");
  if (!caller.isStaff) throw new PermissionError("staff only");
}

const callerOf = (ctx: HandlerContext) => ctx.values.get(callerKey);

export function createNotificationRpc(deps: {
  preferences: PreferencesStore;
  devices: DeviceStore;
  templates: TemplateStore;
  history: History;
  outbox: Outbox;
  broadcast: Broadcast;
}): ServiceImpl<typeof NotificationService> {
  return {
    async getPreferences(_req, ctx) {
      const { userId } = requireUser(callerOf(ctx));
      return { preferences: preferencesMessage(await deps.preferences.get(userId)) };
    },

    async updatePreferences(req, ctx) {
      const { userId } = requireUser(callerOf(ctx));
      const p = req.preferences!;
      const paths = new Set(req.updateMask?.paths ?? []);
      const flags: Partial<Record<PreferenceFlag, boolean>> = {};
      for (const [flag, field] of Object.entries(PREFERENCE_FLAGS) as [PreferenceFlag, keyof typeof p][]) {
        if (paths.has(flag)) flags[flag] = p[field] as boolean;
      }
      const updated = await deps.preferences.update(userId, {
        flags,
        digestDay: paths.has("digest_day") ? p.digestDay : undefined,
        digestTime: paths.has("digest_time") ? p.digestTime : undefined,
        timezone: paths.has("timezone") ? p.timezone : undefined,
      });
      return { preferences: preferencesMessage(updated) };
    },

    async registerDevice(req, ctx) {
      const { userId } = requireUser(callerOf(ctx));
      const type = DEVICE_DOMAIN.get(req.deviceType);
      if (!type) throw new InvalidInputError("unknown device type", "device_type");
      return { device: deviceMessage(await deps.devices.register(userId, req.deviceToken, type, req.deviceName)) };
    },

    async listDevices(req, ctx) {
      const { userId } = requireUser(callerOf(ctx));
      const page = await deps.devices.list(userId, { pageSize: req.pageSize, pageToken: req.pageToken });
      return { devices: page.devices.map(deviceMessage), nextPageToken: page.nextPageToken };
    },

    async unregisterDevice(req, ctx) {
      const { userId } = requireUser(callerOf(ctx));
      const t = req.target;
      const deleted = await deps.devices.unregister(userId, t.case === "deviceId" ? { deviceId: t.value } : { deviceToken: t.value ?? "" });
      return { deleted };
    },

    async listNotifications(req, ctx) {
      const caller = requireUser(callerOf(ctx));
      if (req.userId !== "" && req.userId !== caller.userId && !caller.isStaff) throw new PermissionError("only staff may list another user's notifications");
      if (req.allUsers && !caller.isStaff) throw new PermissionError("only staff may list every user's notifications");
      const page = await deps.history.list(req.allUsers ? undefined : req.userId || caller.userId, {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        status: STATUS_DOMAIN.get(req.status),
        type: TYPE_DOMAIN.get(req.type),
      });
      return { notifications: page.notifications.map((n) => notificationMessage(n, caller.isStaff)), nextPageToken: page.nextPageToken };
    },

    async createTemplate(req, ctx) {
      requireStaffOrService(callerOf(ctx));
      return { template: templateMessage(await deps.templates.create(templateFields(req.template), req.requestId)) };
    },

    async updateTemplate(req, ctx) {
      requireStaffOrService(callerOf(ctx));
      const m = req.template!;
      const paths = new Set(req.updateMask?.paths ?? []);
      const patch: Partial<TemplateFields> = {};
      if (paths.has("name")) patch.name = m.name;
      if (paths.has("template_type")) patch.templateType = templateType(m.templateType);
      if (paths.has("subject")) patch.subject = m.subject;
      if (paths.has("html_content")) patch.htmlContent = m.htmlContent;
      if (paths.has("text_content")) patch.textContent = m.textContent;
      if (paths.has("is_active")) patch.isActive = m.isActive;
      return { template: templateMessage(await deps.templates.update(m.id, patch)) };
    },

    async listTemplates(req, ctx) {
      requireStaffOrService(callerOf(ctx));
      const page = await deps.templates.list({
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        templateType: TEMPLATE_TYPE_DOMAIN.get(req.templateType),
        isActive: req.isActive,
      });
      return { templates: page.templates.map(templateMessage), nextPageToken: page.nextPageToken };
    },

    async deleteTemplate(req, ctx) {
      requireStaffOrService(callerOf(ctx));
      await deps.templates.delete(req.templateId);
      return {};
    },

    async previewTemplate(req, ctx) {
      requireStaffOrService(callerOf(ctx));
      const src = req.source;
      const parts =
        src.case === "templateId"
          ? await deps.templates.get(src.value).then((t) => ({ subject: t.subject, html: t.htmlContent, text: t.textContent }))
          : { subject: src.value?.subject ?? "", html: src.value?.htmlContent ?? "", text: src.value?.textContent ?? "" };
      const r = renderTemplate(parts, (req.sampleData ?? {}) as JsonObject);
      return { subject: r.subject, html: r.html, text: r.text, missingVariables: r.missingVariables };
    },

    async sendNotification(req, ctx) {
      const caller = callerOf(ctx);
      requireStaffOrService(caller);
      const t = req.template;
      const template = t.case === "templateId" ? await deps.templates.get(t.value) : await deps.templates.activeOfType(templateType(t.value ?? 0));
      if (!template.isActive) throw new InvalidInputError("template is not active", "template_id");
      // Keys are scoped by sender, so two staff tools cannot collide on the same client-chosen key.
      const sender = caller.kind === "user" ? `u${caller.userId}` : caller.kind === "service" ? `s:${caller.name}` : "anon";
      const key = `manual:${sender}:${req.idempotencyKey}`;
      const data = (req.data ?? {}) as Record<string, unknown>;
      if (req.filter) {
        // Per-user keys of their own namespace, so a filter send never collides with a one-user send's key.
        const r = await deps.broadcast.send({ key: `${key}:f`, filter: recipientFilter(req.filter), template, data, ignorePreferences: req.ignorePreferences });
        return {
          notifications: [],
          duplicate: r.matched > 0 && r.duplicates === r.matched,
          matchedUsers: r.matched,
          queuedUsers: r.queued,
          skippedUsers: r.skipped,
          duplicateUsers: r.duplicates,
        };
      }
      const results = await deps.outbox.queue([
        { idempotencyKey: key, userId: req.userId, kind: "manual", template, data, ignorePreferences: req.ignorePreferences },
      ]);
      const r = results.get(key)!;
      return { notifications: r.logs.map((n) => notificationMessage(n, true)), duplicate: r.duplicate };
    },

    async getDeliveryStats(req, ctx) {
      requireStaffOrService(callerOf(ctx));
      const { total, daily } = await deps.history.stats({
        startDate: req.startDate,
        endDate: req.endDate,
        type: TYPE_DOMAIN.get(req.type),
        templateType: TEMPLATE_TYPE_DOMAIN.get(req.templateType),
      });
      return { stats: total.map(statsMessage), daily: daily.map(statsMessage) };
    },
  };
}
