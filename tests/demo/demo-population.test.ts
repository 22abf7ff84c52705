/** The synthetic demo population: deterministic, sized as promised, and with real taste structure. */
import { describe, expect, it } from "vitest";
import { generateDemoCatalog } from "../../src/demo/demo-catalog-data.ts";
import { generateDemoPopulation } from "../../src/demo/demo-population-data.ts";

const catalog = generateDemoCatalog();

function positives(u: { interactions: { movieTmdbId: number; type: string }[] }): Set<number> {
  return new Set(u.interactions.filter((x) => x.type !== "dislike").map((x) => x.movieTmdbId));
}
const jaccard = (a: Set<number>, b: Set<number>) => [...a].filter((x) => b.has(x)).length / new Set([...a, ...b]).size;

describe("generateDemoPopulation", () => {
  it("is the same for the same seed, different for another", () => {
    expect(generateDemoPopulation(catalog)).toEqual(generateDemoPopulation(catalog));
    expect(generateDemoPopulation(catalog, { seed: 7 })).not.toEqual(generateDemoPopulation(catalog));
  });

  it("has a few hundred users with 8–32 interactions each, over released demo movies, within the last three weeks", () => {
    const { users, groups } = generateDemoPopulation(catalog);
    expect(users).toHaveLength(300);
    expect(groups).toHaveLength(6);
    const released = new Set(catalog.movies.filter((m) => m.status === "Released").map((m) => m.tmdbId));
    for (const u of users) {
      expect(u.interactions.length).toBeGreaterThanOrEqual(8);
      expect(u.interactions.length).toBeLessThanOrEqual(32);
      for (const x of u.interactions) {
        expect(released.has(x.movieTmdbId)).toBe(true);
        expect(x.secondsAgo).toBeLessThanOrEqual(22 * 86_400);
        expect(x.rating === null).toBe(x.type !== "rating");
      }
    }
  });

  it("has taste structure: users of one group share far more movies than users of different groups", () => {
    const { users } = generateDemoPopulation(catalog);
    let same = 0, sameN = 0, other = 0, otherN = 0;
    for (let a = 0; a < 120; a++) {
      for (let b = a + 1; b < 120; b++) {
        const j = jaccard(positives(users[a]!), positives(users[b]!));
        if (users[a]!.group === users[b]!.group) (same += j), sameN++;
        else (other += j), otherN++;
      }
    }
    expect(same / sameN).toBeGreaterThan(1.5 * (other / otherN));
  });
});
