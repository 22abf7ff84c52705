/** The staff report handlers of AnalyticsService (filled in with the reports). */
import type { ServiceImpl } from "@connectrpc/connect";
import type { AnalyticsService } from "../../../gen/movierec/analytics/v1/analytics_service_pb.js";

export interface ReportsRpcDeps {}

/** Report handlers; methods not listed answer UNIMPLEMENTED. */
export function createReportsRpc(_deps: ReportsRpcDeps): Partial<ServiceImpl<typeof AnalyticsService>> {
  return {};
}
