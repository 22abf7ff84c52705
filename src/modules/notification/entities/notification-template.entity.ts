/** `notification_templates`: named email and push templates. */
import { defineEntity, p } from "@mikro-orm/core";

/** The design's four examples plus trending/new-release emails and new-release pushes (migration 0005). */
export const TEMPLATE_TYPES = [
  "email_weekly_digest",
  "email_recommendation",
  "push_trending",
  "push_recommendation",
  "email_trending",
  "email_new_release",
  "push_new_release",
] as const;
export type TemplateType = (typeof TEMPLATE_TYPES)[number];

export const NotificationTemplateSchema = defineEntity({
  name: "NotificationTemplate",
  tableName: "notification_templates",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    name: p.string().length(100).unique(),
    templateType: p.enum(TEMPLATE_TYPES).columnType("varchar(30)"),
    subject: p.string().length(200),
    htmlContent: p.text(),
    /** Plain-text email body, or the push message. */
    textContent: p.text(),
    isActive: p.boolean().default(true),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

export class NotificationTemplate extends NotificationTemplateSchema.class {}
NotificationTemplateSchema.setClass(NotificationTemplate);
