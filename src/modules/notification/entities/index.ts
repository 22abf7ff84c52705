/** Notification entities: preferences, templates, the delivery log and push devices. */
import { NotificationLogSchema } from "./notification-log.entity.ts";
import { NotificationPreferenceSchema } from "./notification-preference.entity.ts";
import { NotificationRequestSchema } from "./notification-request.entity.ts";
import { NotificationTemplateSchema } from "./notification-template.entity.ts";
import { UserDeviceSchema } from "./user-device.entity.ts";

export {
  NOTIFICATION_STATUSES,
  NOTIFICATION_TYPES,
  NotificationLog,
  NotificationLogSchema,
  type NotificationStatus,
  type NotificationType,
} from "./notification-log.entity.ts";
export { NotificationPreference, NotificationPreferenceSchema } from "./notification-preference.entity.ts";
export { NotificationRequest, NotificationRequestSchema } from "./notification-request.entity.ts";
export {
  NotificationTemplate,
  NotificationTemplateSchema,
  TEMPLATE_TYPES,
  type TemplateType,
} from "./notification-template.entity.ts";
export { DEVICE_TYPES, type DeviceType, UserDevice, UserDeviceSchema } from "./user-device.entity.ts";

/** The notification service's entity schemas, for the ORM's `entities` option. */
export const notificationEntities = [
  NotificationPreferenceSchema,
  NotificationTemplateSchema,
  NotificationLogSchema,
  UserDeviceSchema,
  NotificationRequestSchema,
];
