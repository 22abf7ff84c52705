/**
 * AnalyticsService handlers: protobuf <-> domain mapping only. Ingestion is in event-ingest.ts, reports in
 * reports.ts.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { ActionType, type Event, MetricUnit, Source } from "../../../gen/movierec/analytics/v1/analytics_pb.js";
import type { AnalyticsService } from "../../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { callerKey } from "../../platform/caller.ts";
import { remoteAddressKey } from "../../platform/remote-address.ts";
import type { ProxyTrust } from "./client-address.ts";
import type { ActionType as ActionName, ActivitySource, MetricUnit as UnitName } from "./entities/index.ts";
import type { EventInput, RequestOrigin } from "./event-input.ts";
import { type IngestDeps, type IngestMessage, ingestOne, ingestStream } from "./event-ingest.ts";
import { type MetricRow, additionalDataJson } from "./metric-store.ts";
import { callerScope, resolveOrigin } from "./request-origin.ts";
import { createReportsRpc, type ReportsRpcDeps } from "./reports.rpc.ts";

const ACTIONS: Record<number, ActionName> = {
  [ActionType.MOVIE_VIEW]: "movie_view",
  [ActionType.MOVIE_SEARCH]: "movie_search",
  [ActionType.RECOMMENDATION_CLICK]: "recommendation_click",
  [ActionType.EMAIL_OPEN]: "email_open",
  [ActionType.EMAIL_CLICK]: "email_click",
  [ActionType.PUSH_CLICK]: "push_click",
  [ActionType.RATING_SUBMIT]: "rating_submit",
  [ActionType.REVIEW_SUBMIT]: "review_submit",
  [ActionType.FAVORITE_ADD]: "favorite_add",
  [ActionType.WATCHLIST_ADD]: "watchlist_add",
};
const SOURCES: Record<number, ActivitySource> = {
  [Source.WEB]: "web",
  [Source.MOBILE]: "mobile",
  [Source.EMAIL]: "email",
  [Source.PUSH]: "push",
};
const UNITS: Record<number, UnitName> = {
  [MetricUnit.MS]: "ms",
  [MetricUnit.SECONDS]: "seconds",
  [MetricUnit.COUNT]: "count",
  [MetricUnit.PERCENTAGE]: "percentage",
  [MetricUnit.BYTES]: "bytes",
};

/** The domain view of a protobuf Event. */
export function toEventInput(e: Event | undefined): EventInput | undefined {
  if (e === undefined) return undefined;
  return {
    sessionId: e.sessionId,
    actionType: ACTIONS[e.actionType],
    movieId: e.movieId,
    referer: e.referer,
    source: SOURCES[e.source],
    metadata: e.metadata,
    occurredAt: e.occurredAt ? timestampDate(e.occurredAt) : undefined,
  };
}

function originOf(ctx: HandlerContext, trust: ProxyTrust): RequestOrigin {
  const h = ctx.requestHeader;
  return resolveOrigin(
    {
      caller: ctx.values.get(callerKey),
      peer: ctx.values.get(remoteAddressKey),
      headers: {
        forwardedFor: h.get("x-forwarded-for"),
        userAgent: h.get("user-agent"),
        clientIp: h.get("x-client-ip"),
        clientUserAgent: h.get("x-client-user-agent"),
      },
    },
    trust,
  );
}

export interface AnalyticsRpcDeps extends IngestDeps, ReportsRpcDeps {
  /** Where the staff reports read (a replica when configured: reports tolerate lag); default `pool`. */
  reportsPool?: ReportsRpcDeps["pool"];
  readonly trust: ProxyTrust;
  /** Stores one RecordMetric measurement. */
  readonly recordMetric: (row: MetricRow) => Promise<void>;
}

/** The AnalyticsService implementation. */
export function createAnalyticsRpc(deps: AnalyticsRpcDeps): Partial<ServiceImpl<typeof AnalyticsService>> {
  return {
    async trackEvent(req, ctx) {
      await ingestOne(deps, originOf(ctx, deps.trust), toEventInput(req.event));
      return {};
    },

    async trackEvents(reqs, ctx) {
      const origin = originOf(ctx, deps.trust);
      const messages = (async function* (): AsyncGenerator<IngestMessage> {
        for await (const r of reqs) {
          // `event` first (a message with neither is still reported, as before), then `events`.
          if (r.event !== undefined || r.events.length === 0) yield { batchKey: r.batchKey, event: toEventInput(r.event) };
          for (const e of r.events) yield { batchKey: r.batchKey, event: toEventInput(e) };
        }
      })();
      const result = await ingestStream(
        deps,
        {
          callerKey: callerScope(ctx.values.get(callerKey)),
          origin,
          signal: ctx.signal,
          // Trailers reach the client even when the call fails later: it learns how much is durably stored.
          onProgress: (p) => {
            ctx.responseTrailer.set("x-processed-count", String(p.processed));
            ctx.responseTrailer.set("x-accepted-count", String(p.accepted));
          },
        },
        messages,
      );
      ctx.responseTrailer.set("x-rejected-count", String(result.rejectedCount));
      return { acceptedCount: result.acceptedCount, rejected: [...result.rejected], duplicateBatch: result.duplicateBatch };
    },

    // The unary twin of trackEvents for browsers (fetch cannot stream a request body): same ingest path.
    async trackEventBatch(req, ctx) {
      const messages = (async function* (): AsyncGenerator<IngestMessage> {
        for (const e of req.events) yield { batchKey: req.batchKey, event: toEventInput(e) };
      })();
      const result = await ingestStream(deps, { callerKey: callerScope(ctx.values.get(callerKey)), origin: originOf(ctx, deps.trust), signal: ctx.signal }, messages);
      return { acceptedCount: result.acceptedCount, rejected: [...result.rejected], duplicateBatch: result.duplicateBatch };
    },

    async recordMetric(req, ctx) {
      const caller = ctx.values.get(callerKey);
      await deps.recordMetric({
        name: req.metricName,
        value: req.metricValue,
        unit: UNITS[req.metricUnit] ?? "count",
        endpoint: req.endpoint === "" ? null : req.endpoint,
        userId: caller.kind === "user" ? caller.userId : null,
        additionalData: JSON.parse(additionalDataJson(req.additionalData)) as Record<string, unknown>,
        timestamp: req.measuredAt ? timestampDate(req.measuredAt) : new Date(),
      });
      return {};
    },

    ...createReportsRpc({ ...deps, pool: deps.reportsPool ?? deps.pool }),
  };
}
