/**
 * Experiment reports from the shown impressions: per arm (an experiment's variant, or an algorithm on a surface)
 * and per UTC day, impressions, clicks and conversions with Wilson intervals; every arm compared with the control
 * (the first variant; the first algorithm by name) by a two-proportion z-test; and the warning when the sample is too
 * small to decide (experiment-stats.ts states the rule). One grouped query; the statistics are computed here.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Surface } from "./entities/index.ts";
import type { ExperimentRow } from "./experiments.ts";
import { sampleProblem, twoProportionTest, wilson, type Interval, type ProportionTest } from "./experiment-stats.ts";

export interface ArmCounts {
  arm: string;
  algorithm: string;
  impressions: number;
  clicks: number;
  conversions: number;
}

export interface ArmReport extends ArmCounts {
  ctr: Interval;
  conversionRate: Interval;
}

export interface ComparisonReport {
  arm: string;
  control: string;
  ctr: ProportionTest;
  conversion: ProportionTest;
  ctrSignificant: boolean;
}

export interface Report {
  startDate: string;
  endDate: string;
  arms: ArmReport[];
  days: { date: string; stats: ArmReport }[];
  comparisons: ComparisonReport[];
  sampleTooSmall: boolean;
  warning: string;
}

/** Planned impressions per arm when comparing algorithms outside an experiment. */
export const DEFAULT_PLANNED_SAMPLE = 1000;

const withRates = (c: ArmCounts): ArmReport => ({ ...c, ctr: wilson(c.clicks, c.impressions), conversionRate: wilson(c.conversions, c.impressions) });

/** The report over [startDate, endDate] (UTC days, inclusive) of an experiment, or of the algorithms on `surface`. */
export async function buildReport(
  em: EntityManager,
  scope: { experiment: ExperimentRow } | { surface: Surface },
  startDate: string,
  endDate: string,
): Promise<Report> {
  const byExperiment = "experiment" in scope;
  const rows = await em.execute<{ day: string; arm: string; algorithm: string; n: string; clicks: string; conversions: string }[]>(
    `select to_char(shown_at at time zone 'UTC', 'YYYY-MM-DD') as day, ${byExperiment ? "variant" : "algorithm"} as arm, min(algorithm) as algorithm,
            count(*) as n, count(clicked_at) as clicks, count(converted_at) as conversions
       from recommendation_impressions
      where shown_at >= (?::date)::timestamp at time zone 'UTC' and shown_at < (?::date + 1)::timestamp at time zone 'UTC'
        and ${byExperiment ? "experiment_id = ?::bigint and variant is not null" : "surface = ?"}
      group by 1, 2 order by 1, 2`,
    [startDate, endDate, byExperiment ? scope.experiment.id : scope.surface],
  );
  // Arms in a fixed order, control first: the experiment's variants as defined (even those never served yet).
  const algorithmOf = new Map<string, string>(byExperiment ? scope.experiment.variants.map((v) => [v.name, v.algorithm]) : rows.map((r) => [r.arm, r.arm]));
  const order = byExperiment ? scope.experiment.variants.map((v) => v.name) : [...new Set(rows.map((r) => r.arm))].sort();
  const totals = new Map(order.map((arm) => [arm, { arm, algorithm: algorithmOf.get(arm) ?? arm, impressions: 0, clicks: 0, conversions: 0 }]));
  const days: Report["days"] = [];
  for (const r of rows) {
    const t = totals.get(r.arm);
    if (!t) continue; // a variant no longer in the definition
    const c = { arm: r.arm, algorithm: t.algorithm, impressions: Number(r.n), clicks: Number(r.clicks), conversions: Number(r.conversions) };
    t.impressions += c.impressions;
    t.clicks += c.clicks;
    t.conversions += c.conversions;
    days.push({ date: r.day, stats: withRates(c) });
  }
  const arms = order.map((a) => withRates(totals.get(a)!));
  const planned = byExperiment ? scope.experiment.minSamplePerVariant : DEFAULT_PLANNED_SAMPLE;
  const problems = arms.map((a) => sampleProblem(a, planned)).filter((p): p is string => p !== undefined);
  const sampleTooSmall = problems.length > 0 || arms.length < 2;
  const [control, ...others] = arms;
  const comparisons: ComparisonReport[] = control
    ? others.map((a) => {
        const ctr = twoProportionTest(control.clicks, control.impressions, a.clicks, a.impressions);
        return { arm: a.arm, control: control.arm, ctr, conversion: twoProportionTest(control.conversions, control.impressions, a.conversions, a.impressions), ctrSignificant: !sampleTooSmall && ctr.p < 0.05 };
      })
    : [];
  const warning = arms.length < 2 ? "fewer than two arms were served: nothing to compare" : problems.length > 0 ? `sample too small to decide: ${problems.join("; ")}` : "";
  return { startDate, endDate, arms, days, comparisons, sampleTooSmall, warning };
}
