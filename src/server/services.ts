import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { ExperimentService } from "../../gen/movierec/recommendation/v1/experiment_service_pb.js";
import { NotificationService } from "../../gen/movierec/notification/v1/notification_service_pb.js";
import { AnalyticsService } from "../../gen/movierec/analytics/v1/analytics_service_pb.js";

/** The product's services, in the order they are listed by reflection. */
export const API_SERVICES = [UserService, CatalogService, RecommendationService, ExperimentService, NotificationService, AnalyticsService] as const;

/**
 * Handler implementations, one per service. A method a module does not implement yet is
 * answered UNIMPLEMENTED by connect (never with made-up data).
 */
export interface ApiImpls {
  user: Partial<ServiceImpl<typeof UserService>>;
  catalog: Partial<ServiceImpl<typeof CatalogService>>;
  recommendation: Partial<ServiceImpl<typeof RecommendationService>>;
  experiment: Partial<ServiceImpl<typeof ExperimentService>>;
  notification: Partial<ServiceImpl<typeof NotificationService>>;
  analytics: Partial<ServiceImpl<typeof AnalyticsService>>;
}

export const EMPTY_IMPLS: ApiImpls = { user: {}, catalog: {}, recommendation: {}, experiment: {}, notification: {}, analytics: {} };

/** Pairs each service descriptor with its implementation. */
export function apiRoutes(impls: ApiImpls): Array<[DescService, object]> {
  return [
    [UserService, impls.user],
    [CatalogService, impls.catalog],
    [RecommendationService, impls.recommendation],
    [ExperimentService, impls.experiment],
    [NotificationService, impls.notification],
    [AnalyticsService, impls.analytics],
  ];
}
