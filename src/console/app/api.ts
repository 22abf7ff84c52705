/**
 * The console's API access: Connect-Web clients of the five services over one transport, with the staff member's
 * access token added to every call. The token lives in memory only (a module variable): nothing persistent for a
 * script injected into the page to read later, and no cookie, so no cross-site request can act as the staff member.
 * The cost is signing in again after a reload.
 */
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import type { DescService } from "@bufbuild/protobuf";
import { UserService } from "../../../gen/movierec/user/v1/user_service_pb.js";
import { CatalogService } from "../../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { RecommendationService } from "../../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { NotificationService } from "../../../gen/movierec/notification/v1/notification_service_pb.js";
import { AnalyticsService } from "../../../gen/movierec/analytics/v1/analytics_service_pb.js";

let accessToken = "";

const bearer: Interceptor = (next) => (req) => {
  if (accessToken !== "") req.header.set("authorization", `Bearer ${accessToken}`);
  return next(req);
};

// Same origin as the console: the API serves both, so no CORS is involved.
const transport = createConnectTransport({ baseUrl: window.location.origin, interceptors: [bearer] });
const client = <S extends DescService>(s: S): Client<S> => createClient(s, transport);

export const api = {
  user: client(UserService),
  catalog: client(CatalogService),
  recommendation: client(RecommendationService),
  notification: client(NotificationService),
  analytics: client(AnalyticsService),
};

export function setToken(token: string): void {
  accessToken = token;
}

export function signedIn(): boolean {
  return accessToken !== "";
}

/** "PERMISSION_DENIED: staff only" — the gRPC code name and the server's message, as operators know them from grpcurl. */
export function describeError(e: unknown): string {
  const err = ConnectError.from(e);
  const name = Code[err.code]?.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase() ?? String(err.code);
  return `${name}: ${err.rawMessage}`;
}

/** "YYYY-MM-DD" of `daysAgo` days before today (UTC). */
export function day(daysAgo = 0): string {
  return new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
}
