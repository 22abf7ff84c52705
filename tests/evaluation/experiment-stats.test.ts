/**
 * The statistics and bucketing behind experiments, called directly: Wilson intervals and the two-proportion z-test
 * against values computed by hand, the test's false-positive rate over many simulated A/A experiments, and
 * deterministic bucketing that matches the shares.
 */
import { describe, expect, it } from "vitest";
import { bucketOf, plannedSamplePerArm, sharesToBasisPoints, twoProportionTest, variantFor, wilson } from "../../src/modules/evaluation/index.ts";
import { erfc, sampleProblem } from "../../src/modules/evaluation/experiment-stats.ts";
import { seededRandom as seeded } from "../../src/platform/seeded-random.ts";

describe("experiment statistics", () => {
  it("Wilson interval: 10 of 100 is [0.0552, 0.1744]; empty samples give zeros; bounds stay in [0, 1]", () => {
    const w = wilson(10, 100);
    expect(w.value).toBe(0.1);
    expect(w.lower).toBeCloseTo(0.0552, 4);
    expect(w.upper).toBeCloseTo(0.1744, 4);
    expect(wilson(0, 0)).toEqual({ value: 0, lower: 0, upper: 0 });
    const none = wilson(0, 20);
    expect(none.lower).toBe(0);
    expect(none.upper).toBeCloseTo(0.1611, 4);
    expect(wilson(20, 20).upper).toBe(1);
  });

  it("erfc matches known values", () => {
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(1)).toBeCloseTo(0.157299207, 7);
    expect(erfc(-1)).toBeCloseTo(1.842700793, 7);
  });

  it("two-proportion z-test: 50/1000 vs 80/1000 has z = 2.72, p = 0.0065, difference 0.03 in [0.0085, 0.0515]", () => {
    const t = twoProportionTest(50, 1000, 80, 1000);
    expect(t.difference).toBeCloseTo(0.03, 10);
    expect(t.z).toBeCloseTo(2.7211, 3);
    expect(t.p).toBeCloseTo(0.0065, 4);
    expect(t.lower).toBeCloseTo(0.03 - 1.96 * Math.sqrt((0.05 * 0.95) / 1000 + (0.08 * 0.92) / 1000), 3);
    expect(twoProportionTest(80, 1000, 50, 1000).difference).toBeCloseTo(-0.03, 10);
    expect(twoProportionTest(0, 0, 5, 10).p).toBe(1);
    expect(twoProportionTest(0, 10, 0, 10).p).toBe(1);
  });

  it("planned sample: 5% → 6.5% needs 3,778 impressions per arm at 5% significance and 80% power", () => {
    expect(plannedSamplePerArm(0.05, 0.065)).toBe(3778);
    expect(plannedSamplePerArm(0.1, 0.1)).toBe(Number.POSITIVE_INFINITY);
  });

  it("over 400 simulated A/A experiments the test calls about 5% significant (its false-positive rate)", () => {
    const rand = seeded(7);
    const n = 2000;
    let significant = 0;
    for (let s = 0; s < 400; s++) {
      let a = 0;
      let b = 0;
      for (let i = 0; i < n; i++) {
        if (rand() < 0.05) a++;
        if (rand() < 0.05) b++;
      }
      if (twoProportionTest(a, n, b, n).p < 0.05) significant++;
    }
    // Binomial(400, 0.05): mean 20, sd 4.4.
    expect(significant).toBeGreaterThanOrEqual(8);
    expect(significant).toBeLessThanOrEqual(34);
  });

  it("states why a sample is too small: below plan, too few clicks or non-clicks", () => {
    expect(sampleProblem({ arm: "a", impressions: 500, clicks: 50 }, 1000)).toMatch(/500 of 1000 planned/);
    expect(sampleProblem({ arm: "a", impressions: 2000, clicks: 9 }, 1000)).toMatch(/9 clicks/);
    expect(sampleProblem({ arm: "a", impressions: 2000, clicks: 1995 }, 1000)).toMatch(/without a click/);
    expect(sampleProblem({ arm: "a", impressions: 2000, clicks: 100 }, 1000)).toBeUndefined();
  });
});

describe("bucketing", () => {
  const variants = [
    { name: "a", shareBp: 2000 },
    { name: "b", shareBp: 3000 },
    { name: "c", shareBp: 5000 },
  ];

  it("is a pure function of user id and salt, and a new salt reshuffles", () => {
    expect(bucketOf("42", "s1")).toBe(bucketOf("42", "s1"));
    expect(variantFor("42", "s1", variants)).toBe(variantFor("42", "s1", variants));
    const moved = Array.from({ length: 1000 }, (_, i) => String(i + 1)).filter((u) => variantFor(u, "s1", variants) !== variantFor(u, "s2", variants));
    // Independent draws disagree with probability 1 − (0.2² + 0.3² + 0.5²) = 0.62.
    expect(moved.length).toBeGreaterThan(550);
    expect(moved.length).toBeLessThan(690);
  });

  it("matches the shares within 1 point over 100,000 consecutive user ids", () => {
    const counts = new Map<string, number>();
    for (let u = 1; u <= 100_000; u++) {
      const v = variantFor(String(u), "salt-x", variants).name;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect(Math.abs(counts.get("a")! / 100_000 - 0.2)).toBeLessThan(0.01);
    expect(Math.abs(counts.get("b")! / 100_000 - 0.3)).toBeLessThan(0.01);
    expect(Math.abs(counts.get("c")! / 100_000 - 0.5)).toBeLessThan(0.01);
  });

  it("turns shares into basis points that add up to 10,000, refusing shares that do not sum to 1", () => {
    expect(sharesToBasisPoints([1 / 3, 1 / 3, 1 / 3])).toEqual([3334, 3333, 3333]);
    expect(sharesToBasisPoints([0.5, 0.5])).toEqual([5000, 5000]);
    expect(sharesToBasisPoints([0.5, 0.4])).toBeUndefined();
    expect(sharesToBasisPoints([1, 0])).toBeUndefined();
    expect(sharesToBasisPoints([0.99995, 0.00005])).toBeUndefined(); // the second arm would get no bucket
  });
});
