/** `performance_metrics`: measurements of the system (latencies, counts, sizes). */
import { defineEntity, p } from "@mikro-orm/core";
import { User } from "../../user/entities/index.ts";

export const METRIC_UNITS = ["ms", "seconds", "count", "percentage", "bytes"] as const;
export type MetricUnit = (typeof METRIC_UNITS)[number];

export const PerformanceMetricSchema = defineEntity({
  name: "PerformanceMetric",
  tableName: "performance_metrics",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    metricName: p.string().length(100),
    metricValue: p.double(),
    metricUnit: p.enum(METRIC_UNITS).columnType("varchar(20)"),
    /** RPC or endpoint the measurement belongs to, if any. */
    endpoint: p.string().length(200).nullable(),
    user: () => p.manyToOne(User).ref().nullable().deleteRule("set null"),
    additionalData: p.json<Record<string, unknown>>().defaultRaw("'{}'").onCreate(() => ({})),
    timestamp: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class PerformanceMetric extends PerformanceMetricSchema.class {}
PerformanceMetricSchema.setClass(PerformanceMetric);
