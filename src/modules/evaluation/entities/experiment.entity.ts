/**
 * `experiments` (migration 0014): a staff-defined traffic split of one surface. Variants are stored whole as jsonb
 * (name, algorithm, share in basis points); users are bucketed by a hash of their id and `salt`.
 */
import { defineEntity, p } from "@mikro-orm/core";

export const SURFACES = ["recommendations", "similar", "trending", "digest", "alert"] as const;
export type Surface = (typeof SURFACES)[number];
export const EXPERIMENT_STATUSES = ["draft", "running", "stopped"] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];

/** One arm of an experiment. `shareBp` is its traffic share in basis points (all arms add up to 10,000). */
export interface VariantSpec {
  name: string;
  algorithm: string;
  shareBp: number;
  /** Hybrid blend weights of the variant's own (keys of HybridParams); absent: the trained blend. */
  hybrid?: Record<string, number>;
}

export const ExperimentSchema = defineEntity({
  name: "Experiment",
  tableName: "experiments",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    name: p.string().length(100).unique(),
    surface: p.enum(SURFACES).columnType("varchar(20)"),
    salt: p.string().length(64),
    status: p.enum(EXPERIMENT_STATUSES).columnType("varchar(10)").default("draft"),
    variants: p.json<VariantSpec[]>(),
    /** Impressions per variant planned before a decision; reports warn below it. */
    minSamplePerVariant: p.integer().default(1000),
    startedAt: p.datetime().nullable(),
    stoppedAt: p.datetime().nullable(),
    promotedVariant: p.string().length(50).nullable(),
    createdBy: p.bigint("string").nullable(),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class Experiment extends ExperimentSchema.class {}
ExperimentSchema.setClass(Experiment);
