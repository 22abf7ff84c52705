/**
 * The statistics of experiment reports, as pure functions: Wilson score intervals for one proportion, the
 * two-proportion z-test with a Wald interval of the difference, the planned sample size, and the rule that says
 * when a sample is too small to decide. Frequentist on purpose: a p-value and intervals are what the report's
 * readers are asked to act on, and every number can be checked by hand from the counts.
 */

/** z for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

export interface Interval {
  value: number;
  lower: number;
  upper: number;
}

/** The proportion k/n with its 95% Wilson score interval (good at small n and near 0 or 1, unlike Wald's). */
export function wilson(k: number, n: number, z = Z95): Interval {
  if (n <= 0) return { value: 0, lower: 0, upper: 0 };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // Exact at the edges (rounding would leave 1e-17 above 0 for no successes).
  return { value: p, lower: k <= 0 ? 0 : Math.max(0, centre - half), upper: k >= n ? 1 : Math.min(1, centre + half) };
}

/** erfc(x), fractional error below 1.2e-7 everywhere (Numerical Recipes' Chebyshev fit). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(|Z| ≥ |z|) for a standard normal Z. */
export const twoSidedP = (z: number): number => Math.min(1, erfc(Math.abs(z) / Math.SQRT2));

export interface ProportionTest {
  /** pB − pA. */
  difference: number;
  /** 95% Wald interval of the difference (unpooled standard error). */
  lower: number;
  upper: number;
  /** z statistic with the pooled standard error (the test under "no difference"). */
  z: number;
  /** Two-sided p-value; 1 when either arm is empty or nothing varies. */
  p: number;
}

/** Two-proportion z-test of B (kB of nB) against A (kA of nA). */
export function twoProportionTest(kA: number, nA: number, kB: number, nB: number): ProportionTest {
  if (nA <= 0 || nB <= 0) return { difference: 0, lower: 0, upper: 0, z: 0, p: 1 };
  const pA = kA / nA;
  const pB = kB / nB;
  const difference = pB - pA;
  const se = Math.sqrt((pA * (1 - pA)) / nA + (pB * (1 - pB)) / nB);
  const pooled = (kA + kB) / (nA + nB);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB));
  const z = sePooled > 0 ? difference / sePooled : 0;
  return { difference, lower: difference - Z95 * se, upper: difference + Z95 * se, z, p: sePooled > 0 ? twoSidedP(z) : 1 };
}

/**
 * Impressions per arm for the two-proportion test to detect `p1` → `p2` at two-sided significance 5% with 80%
 * power: n = (z₀.₉₇₅ + z₀.₈)² · (p1(1−p1) + p2(1−p2)) / (p2 − p1)², rounded up.
 */
export function plannedSamplePerArm(p1: number, p2: number, zAlpha = Z95, zPower = 0.8416212335729143): number {
  const d = p2 - p1;
  if (d === 0) return Number.POSITIVE_INFINITY;
  return Math.ceil(((zAlpha + zPower) ** 2 * (p1 * (1 - p1) + p2 * (1 - p2))) / (d * d));
}

/** Fewest successes and failures per arm for the normal approximation behind the z-test and Wald interval. */
export const MIN_EVENTS = 10;

/**
 * Why an arm's sample is too small to decide, or undefined when it is large enough: fewer impressions than planned,
 * or fewer than MIN_EVENTS clicks or non-clicks.
 */
export function sampleProblem(arm: { arm: string; impressions: number; clicks: number }, planned: number): string | undefined {
  if (arm.impressions < planned) return `${arm.arm}: ${arm.impressions} of ${planned} planned impressions`;
  if (arm.clicks < MIN_EVENTS) return `${arm.arm}: ${arm.clicks} clicks (at least ${MIN_EVENTS} needed)`;
  if (arm.impressions - arm.clicks < MIN_EVENTS) return `${arm.arm}: ${arm.impressions - arm.clicks} impressions without a click (at least ${MIN_EVENTS} needed)`;
  return undefined;
}
