/**
 * A synthetic population for the demo, generated from the demo catalogue with a seeded PRNG (same seed, same
 * people, same interactions; nothing downloaded). Its interactions have real taste structure, so collaborative
 * filtering has something to learn: every user belongs to a latent taste group — two genres, an era and a few
 * favourite people (actors and directors) — with a lighter second group, and picks movies with a probability
 * that grows with how well they fit those tastes. Pure: no I/O; times are offsets from "now" so a demo started
 * any day has recent activity (and so trending movies).
 */
import { seededRandom } from "../platform/seeded-random.ts";
import type { DemoCatalog, DemoMovie } from "./demo-catalog-data.ts";

export const DEFAULT_POPULATION_SEED = 20_261_130;

export type SyntheticInteractionType = "like" | "favorite" | "watchlist" | "view" | "rating" | "dislike";

export interface SyntheticInteraction {
  movieTmdbId: number;
  type: SyntheticInteractionType;
  /** 1–5 for "rating", else null. */
  rating: number | null;
  /** How long before the load the interaction happened, in seconds (0 – 21 days, skewed to recent). */
  secondsAgo: number;
}

export interface SyntheticUser {
  username: string;
  email: string;
  /** Index into `groups` of the user's main taste. */
  group: number;
  interactions: SyntheticInteraction[];
}

/** A latent taste: what the members of a group like. */
export interface TasteGroup {
  genreTmdbIds: number[];
  /** Centre of the era the group likes (release year). */
  eraYear: number;
  favouritePersonTmdbIds: number[];
}

export interface DemoPopulation {
  groups: TasteGroup[];
  users: SyntheticUser[];
}

type Rng = () => number;
const between = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
const yearOf = (m: DemoMovie) => Number(m.releaseDate.slice(0, 4));
const peopleOf = (m: DemoMovie) => new Set([...m.cast.slice(0, 4).map((c) => c.personTmdbId), ...m.crew.filter((c) => c.job === "Director").map((c) => c.personTmdbId)]);

/** How well a movie fits a taste: shared genres, era within a decade, a favourite person in it. */
export function affinity(movie: DemoMovie, group: TasteGroup): number {
  const genres = movie.genreTmdbIds.filter((g) => group.genreTmdbIds.includes(g)).length;
  const era = Math.abs(yearOf(movie) - group.eraYear) <= 10 ? 1 : 0;
  const people = [...peopleOf(movie)].some((p) => group.favouritePersonTmdbIds.includes(p)) ? 1 : 0;
  return 1.2 * genres + 0.8 * era + 0.9 * people;
}

/** `count` items drawn without replacement with probability proportional to `weights`. */
function weightedSample(rng: Rng, weights: number[], count: number): number[] {
  const w = [...weights];
  const chosen: number[] = [];
  for (let k = 0; k < count; k++) {
    const total = w.reduce((a, b) => a + b, 0);
    if (total <= 0) break;
    let r = rng() * total;
    let i = 0;
    while (i < w.length - 1 && r >= (w[i] as number)) r -= w[i++] as number;
    chosen.push(i);
    w[i] = 0;
  }
  return chosen;
}

/** Taste groups drawn from what the catalogue holds: genres that have movies, years that occur, people who appear. */
function tasteGroups(rng: Rng, movies: DemoMovie[], count: number): TasteGroup[] {
  const groups: TasteGroup[] = [];
  for (let k = 0; k < count; k++) {
    // Anchor each group on one movie, so every group has movies that fit it well.
    const anchor = movies[Math.floor((k + rng()) * (movies.length / count))] as DemoMovie;
    const companions = movies.filter((m) => m !== anchor && m.genreTmdbIds.some((g) => anchor.genreTmdbIds.includes(g)));
    const people = [...peopleOf(anchor)].slice(0, 2);
    const other = companions[Math.floor(rng() * companions.length)];
    if (other) people.push(...[...peopleOf(other)].slice(0, 1));
    groups.push({ genreTmdbIds: anchor.genreTmdbIds.slice(0, 2), eraYear: yearOf(anchor), favouritePersonTmdbIds: people });
  }
  return groups;
}

/** The population: `userCount` users in `groupCount` taste groups, 8–30 interactions each. */
export function generateDemoPopulation(catalog: DemoCatalog, opts: { seed?: number; userCount?: number; groupCount?: number } = {}): DemoPopulation {
  const rng = seededRandom(opts.seed ?? DEFAULT_POPULATION_SEED);
  const movies = catalog.movies.filter((m) => m.status === "Released");
  const groups = tasteGroups(rng, movies, opts.groupCount ?? 6);
  const fit = groups.map((g) => movies.map((m) => affinity(m, g)));
  const maxPopularity = Math.max(1, ...movies.map((m) => m.popularity));
  const users: SyntheticUser[] = [];
  const userCount = opts.userCount ?? 300;
  for (let u = 0; u < userCount; u++) {
    const group = u % groups.length;
    const second = (group + 1 + Math.floor(rng() * (groups.length - 1))) % groups.length;
    // Taste as a weight per movie: the main group dominates, the second adds variety, popularity a little.
    const taste = movies.map((m, i) => (fit[group]?.[i] ?? 0) + 0.35 * (fit[second]?.[i] ?? 0) + 0.3 * (m.popularity / maxPopularity));
    const weights = taste.map((t) => Math.exp(2.2 * t));
    const n = between(rng, 8, 30);
    const interactions: SyntheticInteraction[] = [];
    const secondsAgo = () => Math.floor(21 * 86_400 * rng() ** 1.6) + between(rng, 0, 3600);
    for (const i of weightedSample(rng, weights, n)) {
      const movie = movies[i] as DemoMovie;
      const r = rng();
      const positive: Omit<SyntheticInteraction, "secondsAgo"> =
        r < 0.5 ? { movieTmdbId: movie.tmdbId, type: "like", rating: null }
        : r < 0.75 ? { movieTmdbId: movie.tmdbId, type: "rating", rating: taste[i]! > 2 ? 5 : 4 }
        : r < 0.82 ? { movieTmdbId: movie.tmdbId, type: "favorite", rating: null }
        : r < 0.92 ? { movieTmdbId: movie.tmdbId, type: "watchlist", rating: null }
        : { movieTmdbId: movie.tmdbId, type: "view", rating: null };
      interactions.push({ ...positive, secondsAgo: secondsAgo() });
    }
    // A dislike or two among the movies furthest from the user's taste.
    const chosen = new Set(interactions.map((x) => x.movieTmdbId));
    const worst = movies.map((m, i) => ({ m, t: taste[i] ?? 0 })).filter((x) => !chosen.has(x.m.tmdbId)).sort((a, b) => a.t - b.t).slice(0, 8);
    for (let d = between(rng, 0, 2); d > 0 && worst.length > 0; d--) {
      const [x] = worst.splice(Math.floor(rng() * worst.length), 1);
      if (x) interactions.push({ movieTmdbId: x.m.tmdbId, type: "dislike", rating: null, secondsAgo: secondsAgo() });
    }
    const name = `demo_viewer_${String(u + 1).padStart(3, "0")}`;
    users.push({ username: name, email: `${name}@movierec.local`, group, interactions });
  }
  return { groups, users };
}
