/** Every entity schema of every service: the one list `platform/orm.ts` registers with MikroORM. */
import { analyticsEntities } from "./analytics/entities/index.ts";
import { auditEntities } from "./audit/entities/index.ts";
import { catalogEntities } from "./catalog/entities/index.ts";
import { evaluationEntities } from "./evaluation/entities/index.ts";
import { notificationEntities } from "./notification/entities/index.ts";
import { recommendationEntities } from "./recommendation/entities/index.ts";
import { userEntities } from "./user/entities/index.ts";

export const allEntities = [
  ...userEntities,
  ...catalogEntities,
  ...recommendationEntities,
  ...notificationEntities,
  ...analyticsEntities,
  ...auditEntities,
  ...evaluationEntities,
];
