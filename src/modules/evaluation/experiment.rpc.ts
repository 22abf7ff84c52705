/** ExperimentService handlers: protobuf ⇄ domain mapping (experiments.ts, experiment-report.ts). Staff users only. */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { MikroORM } from "@mikro-orm/postgresql";
import {
  ArmStatsSchema,
  ComparisonSchema,
  ExperimentSchema,
  ExperimentStatus as StatusEnum,
  ExperimentSurface,
  ExperimentVariantSchema,
  HybridParamsSchema,
  RateSchema,
  type ExperimentService,
  type HybridParams as HybridParamsMessage,
} from "../../../gen/movierec/recommendation/v1/experiment_service_pb.js";
import { Algorithm } from "../../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { callerKey, requireStaff } from "../../platform/caller.ts";
import { InvalidInputError } from "../../platform/errors.ts";
import { decodePageToken, encodePageToken, pageSize } from "../../platform/page-token.ts";
import type { ExperimentStatus, Surface } from "./entities/index.ts";
import { buildReport, type ArmReport } from "./experiment-report.ts";
import { createExperiment, getExperiment, listExperiments, startExperiment, stopExperiment, type ExperimentRow } from "./experiments.ts";

const ALGOS: Record<number, string> = { [Algorithm.UNSPECIFIED]: "hybrid", [Algorithm.HYBRID]: "hybrid", [Algorithm.COLLABORATIVE]: "collaborative", [Algorithm.CONTENT_BASED]: "content_based", [Algorithm.TRENDING]: "trending" };
const ALGO_ENUM: Record<string, Algorithm> = { hybrid: Algorithm.HYBRID, collaborative: Algorithm.COLLABORATIVE, content_based: Algorithm.CONTENT_BASED, trending: Algorithm.TRENDING };
const STATUS: Record<ExperimentStatus, StatusEnum> = { draft: StatusEnum.DRAFT, running: StatusEnum.RUNNING, stopped: StatusEnum.STOPPED };
const STATUS_NAME: Record<number, ExperimentStatus | undefined> = { [StatusEnum.UNSPECIFIED]: undefined, [StatusEnum.DRAFT]: "draft", [StatusEnum.RUNNING]: "running", [StatusEnum.STOPPED]: "stopped" };
const SURFACE: Record<number, Surface> = { [ExperimentSurface.UNSPECIFIED]: "recommendations", [ExperimentSurface.RECOMMENDATIONS]: "recommendations" };
const HYBRID_KEYS = ["knn", "content", "trending", "tau", "floor"] as const;

const hybridFromMessage = (h: HybridParamsMessage | undefined) =>
  h ? Object.fromEntries(HYBRID_KEYS.flatMap((k) => (h[k] === undefined ? [] : [[k, h[k]]]))) : undefined;

function experiment(e: ExperimentRow) {
  return create(ExperimentSchema, {
    id: e.id, name: e.name, surface: ExperimentSurface.RECOMMENDATIONS, status: STATUS[e.status], salt: e.salt, minSamplePerVariant: e.minSamplePerVariant,
    variants: e.variants.map((v) => create(ExperimentVariantSchema, { name: v.name, algorithm: ALGO_ENUM[v.algorithm], share: v.shareBp / 10_000, hybrid: v.hybrid ? create(HybridParamsSchema, v.hybrid) : undefined })),
    createdAt: timestampFromDate(e.createdAt), startedAt: e.startedAt ? timestampFromDate(e.startedAt) : undefined, stoppedAt: e.stoppedAt ? timestampFromDate(e.stoppedAt) : undefined,
    promotedVariant: e.promotedVariant ?? "",
  });
}

function arm(a: ArmReport) {
  return create(ArmStatsSchema, {
    arm: a.arm, algorithm: ALGO_ENUM[a.algorithm] ?? Algorithm.UNSPECIFIED, impressions: BigInt(a.impressions), clicks: BigInt(a.clicks), conversions: BigInt(a.conversions),
    ctr: create(RateSchema, a.ctr), conversionRate: create(RateSchema, a.conversionRate),
  });
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** The ExperimentService implementation; `changed` runs after a start or stop (drops this process's cached assignment). */
export function createExperimentRpc(deps: { orm: MikroORM; changed?: () => void }): ServiceImpl<typeof ExperimentService> {
  const em = () => deps.orm.em.fork();
  const staff = (ctx: HandlerContext) => requireStaff(ctx.values.get(callerKey));
  return {
    async createExperiment(req, ctx) {
      const { userId } = staff(ctx);
      const created = await createExperiment(
        em(),
        {
          name: req.name, surface: SURFACE[req.surface]!, salt: req.salt, minSamplePerVariant: req.minSamplePerVariant,
          variants: req.variants.map((v) => ({ name: v.name, algorithm: ALGOS[v.algorithm]!, share: v.share, hybrid: hybridFromMessage(v.hybrid) })),
        },
        userId,
      );
      return { experiment: experiment(created) };
    },
    async getExperiment(req, ctx) {
      staff(ctx);
      return { experiment: experiment(await getExperiment(em(), req.experimentId)) };
    },
    async listExperiments(req, ctx) {
      staff(ctx);
      const limit = pageSize(req.pageSize, { fallback: 20, max: 100 });
      const status = STATUS_NAME[req.status];
      const fingerprint = `status=${status ?? ""}`;
      const after = decodePageToken(req.pageToken, ["id"], fingerprint);
      const rows = await listExperiments(em(), { status, limit: limit + 1, beforeId: after?.[0] });
      const page = rows.slice(0, limit);
      return { experiments: page.map(experiment), nextPageToken: rows.length > limit ? encodePageToken([page[page.length - 1]!.id], fingerprint) : "" };
    },
    async startExperiment(req, ctx) {
      staff(ctx);
      const started = await startExperiment(em(), req.experimentId);
      deps.changed?.();
      return { experiment: experiment(started) };
    },
    async stopExperiment(req, ctx) {
      staff(ctx);
      const stopped = await stopExperiment(em(), req.experimentId, req.promoteVariant || undefined);
      deps.changed?.();
      return { experiment: experiment(stopped) };
    },
    async getExperimentReport(req, ctx) {
      staff(ctx);
      const exp = req.experimentId ? await getExperiment(em(), req.experimentId) : undefined;
      const today = day(new Date());
      const start = req.startDate || (exp ? day(exp.startedAt ?? exp.createdAt) : day(new Date(Date.now() - 29 * 86_400_000)));
      const end = req.endDate || today;
      // A real calendar day (2026-02-30 matches the pattern but is not one, and would fail in SQL).
      const isDay = (d: string) => !Number.isNaN(Date.parse(d)) && day(new Date(Date.parse(d))) === d;
      if (!isDay(start)) throw new InvalidInputError("not a calendar day", "start_date");
      if (!isDay(end)) throw new InvalidInputError("not a calendar day", "end_date");
      if (start > end) throw new InvalidInputError("must not be after end_date", "start_date");
      if (Date.parse(end) - Date.parse(start) > 366 * 86_400_000) throw new InvalidInputError("the period is at most 366 days", "start_date");
      const r = await buildReport(em(), exp ? { experiment: exp } : { surface: "recommendations" }, start, end);
      return {
        experiment: exp ? experiment(exp) : undefined,
        startDate: r.startDate,
        endDate: r.endDate,
        arms: r.arms.map(arm),
        days: r.days.map((d) => ({ date: d.date, stats: arm(d.stats) })),
        comparisons: r.comparisons.map((c) =>
          create(ComparisonSchema, {
            arm: c.arm, control: c.control,
            ctrDifference: c.ctr.difference, ctrDifferenceLower: c.ctr.lower, ctrDifferenceUpper: c.ctr.upper, ctrPValue: c.ctr.p,
            conversionDifference: c.conversion.difference, conversionDifferenceLower: c.conversion.lower, conversionDifferenceUpper: c.conversion.upper, conversionPValue: c.conversion.p,
            ctrSignificant: c.ctrSignificant,
          }),
        ),
        sampleTooSmall: r.sampleTooSmall,
        warning: r.warning,
      };
    },
  };
}
