/**
 * Who may call what: one rule for every method of the API services (a test fails when one is missing, and the
 * auth interceptor refuses a method without a rule). Health and reflection are not API services and are public.
 *
 * - public: anyone, signed in or not (a valid token still identifies the caller; an invalid one is ignored);
 * - user:   a signed-in user (who acts on their own data); a service token with `scope` may call it too;
 * - staff:  a user with is_staff; a service token with `scope` may call it too.
 * Handlers still check ownership of the resources a request names ("their own data").
 */
export type AuthRule =
  | { readonly access: "public" }
  | { readonly access: "user"; readonly scope?: string }
  | { readonly access: "staff"; readonly scope?: string };

const PUBLIC: AuthRule = { access: "public" };
const USER: AuthRule = { access: "user" };
/** Staff users only: no service token may call it (audit trail, experiments, account status). */
const STAFF: AuthRule = { access: "staff" };
const user = (scope: string): AuthRule => ({ access: "user", scope });
const staff = (scope: string): AuthRule => ({ access: "staff", scope });

/** Service scopes that tokens in SERVICE_TOKENS may carry. */
export const SERVICE_SCOPES = [
  "users.read",
  "catalog.write",
  "catalog.import",
  "recommendation.admin",
  "notifications.admin",
  "notifications.send",
  "analytics.write",
  "analytics.read",
] as const;

/** Rules by service type name, then method name (as in the .proto). */
export const AUTH_RULES: Readonly<Record<string, Readonly<Record<string, AuthRule>>>> = {
  "movierec.user.v1.UserService": {
    Register: PUBLIC,
    Login: PUBLIC,
    RefreshSession: PUBLIC,
    Logout: USER,
    GetMe: USER,
    UpdateProfile: USER,
    SetFavoriteGenres: USER,
    ChangePassword: USER,
    DeleteAccount: USER,
    ExportMyData: USER,
    GetUser: staff("users.read"),
    ListUsers: staff("users.read"),
    SetUserActive: STAFF,
  },
  "movierec.catalog.v1.CatalogService": {
    GetMovie: PUBLIC,
    BatchGetMovies: PUBLIC,
    ListMovies: PUBLIC,
    SearchMovies: PUBLIC,
    ListGenres: PUBLIC,
    GetPerson: PUBLIC,
    ListPersonCredits: PUBLIC,
    CreateMovie: staff("catalog.write"),
    UpdateMovie: staff("catalog.write"),
    DeleteMovie: staff("catalog.write"),
    StartTmdbImport: staff("catalog.import"),
    GetImportJob: staff("catalog.import"),
  },
  "movierec.recommendation.v1.RecommendationService": {
    RecordInteraction: USER,
    DeleteInteraction: USER,
    ListInteractions: USER,
    GetRecommendations: USER,
    GetSimilarMovies: PUBLIC,
    GetTrendingMovies: PUBLIC,
    RecordRecommendationClick: USER,
    SubmitFeedback: USER,
    RefreshRecommendations: USER,
    GetModelStatus: staff("recommendation.admin"),
    StartTraining: staff("recommendation.admin"),
  },
  "movierec.recommendation.v1.ExperimentService": {
    CreateExperiment: STAFF,
    GetExperiment: STAFF,
    ListExperiments: STAFF,
    StartExperiment: STAFF,
    StopExperiment: STAFF,
    GetExperimentReport: STAFF,
  },
  "movierec.notification.v1.NotificationService": {
    GetPreferences: USER,
    UpdatePreferences: USER,
    RegisterDevice: USER,
    ListDevices: USER,
    UnregisterDevice: USER,
    ListNotifications: USER,
    CreateTemplate: staff("notifications.admin"),
    UpdateTemplate: staff("notifications.admin"),
    ListTemplates: staff("notifications.admin"),
    DeleteTemplate: staff("notifications.admin"),
    PreviewTemplate: staff("notifications.admin"),
    SendNotification: staff("notifications.send"),
    GetDeliveryStats: staff("notifications.admin"),
  },
  "movierec.analytics.v1.AnalyticsService": {
    // A web backend forwards its visitors' events (anonymous ones too) with an analytics.write service token.
    TrackEvent: user("analytics.write"),
    TrackEvents: user("analytics.write"),
    TrackEventBatch: user("analytics.write"),
    RecordMetric: user("analytics.write"),
    GetTopMovies: staff("analytics.read"),
    GetRecommendationCtr: staff("analytics.read"),
    GetNotificationFunnel: staff("analytics.read"),
    GetPerformanceSummary: staff("analytics.read"),
    GetActiveUsers: staff("analytics.read"),
    GetPopularity: staff("analytics.read"),
    ListAuditLog: STAFF,
  },
};

/** Services outside the table that anyone may call (probes and tooling). */
export const PUBLIC_SERVICES: ReadonlySet<string> = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

/** The rule of a method; undefined when none is written (the interceptor then refuses the call). */
export function authRuleFor(service: string, method: string): AuthRule | undefined {
  if (PUBLIC_SERVICES.has(service)) return PUBLIC;
  return AUTH_RULES[service]?.[method];
}
