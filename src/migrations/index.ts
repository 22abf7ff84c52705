/**
 * Every migration, in order, registered explicitly (the migrator's `migrationsList`), so no file globbing or
 * loader is involved and the list is the same under Node's type stripping, tests and production.
 */
import type { MigrationObject } from "@mikro-orm/core";
import { InitialSchema } from "./0001-initial-schema.ts";
import { CatalogKeywords } from "./0002-catalog-keywords.ts";
import { UserSessions } from "./0003-user-sessions.ts";
import { CatalogSearch } from "./0004-catalog-search.ts";
import { NotificationDelivery } from "./0005-notification-delivery.ts";
import { Analytics } from "./0006-analytics.ts";
import { RescoreRequests } from "./0011-rescore-requests.ts";
import { TitleWords } from "./0012-title-words.ts";
import { OnlineEvaluation } from "./0014-online-evaluation.ts";
import { TitleWordsKnn } from "./0015-title-words-knn.ts";
import { TitleKnn } from "./0016-title-knn.ts";
import { ProfilePerUser } from "./0017-profile-per-user.ts";
import { RecommendationLists } from "./0018-recommendation-lists.ts";

export const migrationsList: MigrationObject[] = [
  { name: "0001-initial-schema", class: InitialSchema },
  { name: "0002-catalog-keywords", class: CatalogKeywords },
  { name: "0003-user-sessions", class: UserSessions },
  { name: "0004-catalog-search", class: CatalogSearch },
  { name: "0005-notification-delivery", class: NotificationDelivery },
  { name: "0006-analytics", class: Analytics },
  { name: "0011-rescore-requests", class: RescoreRequests },
  { name: "0012-title-words", class: TitleWords },
  { name: "0014-online-evaluation", class: OnlineEvaluation },
  { name: "0015-title-words-knn", class: TitleWordsKnn },
  { name: "0016-title-knn", class: TitleKnn },
  { name: "0017-profile-per-user", class: ProfilePerUser },
  { name: "0018-recommendation-lists", class: RecommendationLists },
];
