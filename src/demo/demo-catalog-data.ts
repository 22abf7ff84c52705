/**
 * The demo catalogue, generated in memory from word lists with a seeded PRNG:
 * the same seed always yields the same catalogue, so `npm run demo` twice gives
 * identical rows and tests can rely on exact values. Pure: no I/O.
 */
import {
  CHARACTER_NAMES, COMPANIES, COMPLICATIONS, FIRST_NAMES, GENRE_COMPANIONS, GENRE_KEYWORDS, GOALS, INCIDENTS,
  LANGUAGES, LAST_NAMES, PLACES, ROLES, TAGLINES, TITLE_ADJECTIVES, TITLE_NOUNS, TITLE_PATTERNS, TMDB_GENRES,
} from "./demo-words.ts";
import { seededRandom } from "../platform/seeded-random.ts";

/**
 * Demo rows use TMDb ids far above any real TMDb id (integer range, < 2^31), so a
 * later real TMDb import can never overwrite or be overwritten by demo rows.
 */
export const DEMO_TMDB_ID_BASE = {
  movie: 1_900_000_000,
  person: 1_910_000_000,
  company: 1_920_000_000,
  keyword: 1_930_000_000,
} as const;

export const DEFAULT_DEMO_SEED = 20_241_201;

export interface DemoGenre { tmdbId: number; name: string; slug: string }
export interface DemoCompany { tmdbId: number; name: string; originCountry: string }
export interface DemoKeyword { tmdbId: number; name: string }
export interface DemoPerson {
  tmdbId: number;
  name: string;
  biography: string;
  /** ISO date (YYYY-MM-DD). */
  birthday: string;
  placeOfBirth: string;
  knownForDepartment: "Acting" | "Directing" | "Writing" | "Production";
  popularity: number;
}
export interface DemoCastMember { personTmdbId: number; character: string; order: number }
export interface DemoCrewMember { personTmdbId: number; job: string; department: string }
export interface DemoMovie {
  tmdbId: number;
  title: string;
  originalTitle: string;
  overview: string;
  tagline: string;
  /** ISO date (YYYY-MM-DD). */
  releaseDate: string;
  runtime: number;
  budget: number | null;
  revenue: number | null;
  status: "Released" | "Post Production" | "In Production";
  /** 0–10 with one decimal; null before release. */
  tmdbRating: number | null;
  tmdbVoteCount: number;
  popularity: number;
  originalLanguage: string;
  genreTmdbIds: number[];
  companyTmdbIds: number[];
  keywordTmdbIds: number[];
  cast: DemoCastMember[];
  crew: DemoCrewMember[];
}
export interface DemoCatalog {
  genres: DemoGenre[];
  movies: DemoMovie[];
  persons: DemoPerson[];
  companies: DemoCompany[];
  keywords: DemoKeyword[];
}


type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
const between = (rng: Rng, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));
const round1 = (x: number): number => Math.round(x * 10) / 10;
const pad = (n: number): string => String(n).padStart(2, "0");
const isoDate = (y: number, m: number, d: number): string => `${y}-${pad(m)}-${pad(d)}`;

/** `count` distinct items of `items`, in random order. */
function sample<T>(rng: Rng, items: readonly T[], count: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, Math.min(count, copy.length));
}

/** Builds the whole demo catalogue: 19 genres, `movieCount` movies, 80 persons, 10 companies, keywords. */
export function generateDemoCatalog(opts: { seed?: number; movieCount?: number } = {}): DemoCatalog {
  const rng = seededRandom(opts.seed ?? DEFAULT_DEMO_SEED);
  const movieCount = opts.movieCount ?? 60;

  const genres: DemoGenre[] = TMDB_GENRES.map((g) => ({ ...g }));
  const companies: DemoCompany[] = COMPANIES.map((c, i) => ({ tmdbId: DEMO_TMDB_ID_BASE.company + i + 1, ...c }));
  const keywordNames = [...new Set(Object.values(GENRE_KEYWORDS).flat())].sort();
  const keywords: DemoKeyword[] = keywordNames.map((name, i) => ({ tmdbId: DEMO_TMDB_ID_BASE.keyword + i + 1, name }));
  const keywordId = new Map(keywords.map((k) => [k.name, k.tmdbId]));

  const persons = generatePersons(rng);
  const byDept = (d: DemoPerson["knownForDepartment"]) => persons.filter((p) => p.knownForDepartment === d);
  const actors = byDept("Acting");
  const directors = byDept("Directing");
  const writers = byDept("Writing");
  const producers = byDept("Production");

  const movies: DemoMovie[] = [];
  const titles = new Set<string>();
  for (let i = 0; i < movieCount; i++) {
    // The first genre cycles through all 19, so every genre has movies; companions keep the mix plausible.
    const primary = (TMDB_GENRES[i % TMDB_GENRES.length] as DemoGenre).tmdbId;
    const genreTmdbIds = [primary, ...sample(rng, GENRE_COMPANIONS[primary] ?? [], between(rng, 1, 2))];

    let title = makeTitle(rng);
    while (titles.has(title)) title = makeTitle(rng);
    titles.add(title);

    const upcoming = i % 20 === 19; // three unreleased films for "coming soon" style features
    const year = upcoming ? 2027 : between(rng, 1978, 2025);
    const releaseDate = isoDate(year, between(rng, 1, 12), between(rng, 1, 28));
    // Popularity is heavy-tailed, as in TMDb: a few hits, many quiet films.
    const popularity = upcoming ? round1(5 + rng() * 20) : round1(2 + 120 * Math.pow(rng(), 3));
    const tmdbRating = upcoming ? null : round1(Math.min(9.2, Math.max(3.8, 6.4 + (rng() + rng() + rng() - 1.5) * 1.8)));
    const tmdbVoteCount = upcoming ? 0 : Math.round(popularity * between(rng, 40, 160));
    const budget = rng() < 0.8 ? between(rng, 2, 180) * 1_000_000 : null;
    const revenue = upcoming || budget === null ? null : Math.round(budget * (0.4 + rng() * 4.5));

    const keywordPool = [...new Set(genreTmdbIds.flatMap((g) => GENRE_KEYWORDS[g] ?? []))];
    const keywordTmdbIds = sample(rng, keywordPool, between(rng, 2, 4)).map((k) => keywordId.get(k) as number);

    const castActors = sample(rng, actors, between(rng, 5, 8));
    const characters = sample(rng, CHARACTER_NAMES, castActors.length);
    const cast = castActors.map((p, order) => ({ personTmdbId: p.tmdbId, character: characters[order] as string, order }));

    const director = pick(rng, directors);
    const crew: DemoCrewMember[] = [{ personTmdbId: director.tmdbId, job: "Director", department: "Directing" }];
    // Some directors write their own films; others work from a screenplay, sometimes from a writer's story.
    if (rng() < 0.3) crew.push({ personTmdbId: director.tmdbId, job: "Screenplay", department: "Writing" });
    else crew.push({ personTmdbId: pick(rng, writers).tmdbId, job: "Screenplay", department: "Writing" });
    if (rng() < 0.4) crew.push({ personTmdbId: pick(rng, writers).tmdbId, job: "Writer", department: "Writing" });
    for (const p of sample(rng, producers, between(rng, 1, 2))) crew.push({ personTmdbId: p.tmdbId, job: "Producer", department: "Production" });

    movies.push({
      tmdbId: DEMO_TMDB_ID_BASE.movie + i + 1,
      title,
      originalTitle: title,
      overview: makeOverview(rng),
      tagline: pick(rng, TAGLINES),
      releaseDate,
      runtime: between(rng, 82, 168),
      budget,
      revenue,
      status: upcoming ? (i % 40 === 19 ? "Post Production" : "In Production") : "Released",
      tmdbRating,
      tmdbVoteCount,
      popularity,
      originalLanguage: pick(rng, LANGUAGES),
      genreTmdbIds,
      companyTmdbIds: sample(rng, companies, between(rng, 1, 2)).map((c) => c.tmdbId),
      keywordTmdbIds,
      cast,
      crew,
    });
  }
  return { genres, movies, persons, companies, keywords };
}

/** 80 people: 55 actors, 10 directors, 8 writers, 7 producers, with unique names. */
function generatePersons(rng: Rng): DemoPerson[] {
  const departments: Array<[DemoPerson["knownForDepartment"], number]> = [
    ["Acting", 55],
    ["Directing", 10],
    ["Writing", 8],
    ["Production", 7],
  ];
  const names = new Set<string>();
  const persons: DemoPerson[] = [];
  for (const [department, count] of departments) {
    for (let k = 0; k < count; k++) {
      let name = `${pick(rng, FIRST_NAMES)} ${pick(rng, LAST_NAMES)}`;
      while (names.has(name)) name = `${pick(rng, FIRST_NAMES)} ${pick(rng, LAST_NAMES)}`;
      names.add(name);
      const placeOfBirth = pick(rng, PLACES);
      const craft = { Acting: "actor", Directing: "director", Writing: "screenwriter", Production: "producer" }[department];
      persons.push({
        tmdbId: DEMO_TMDB_ID_BASE.person + persons.length + 1,
        name,
        biography: `${name} is a fictional ${craft} from ${placeOfBirth}, invented for the movierec demo catalogue.`,
        birthday: isoDate(between(rng, 1940, 2004), between(rng, 1, 12), between(rng, 1, 28)),
        placeOfBirth,
        knownForDepartment: department,
        popularity: round1(0.5 + 40 * Math.pow(rng(), 2)),
      });
    }
  }
  return persons;
}

function makeTitle(rng: Rng): string {
  const noun = pick(rng, TITLE_NOUNS);
  let noun2 = pick(rng, TITLE_NOUNS);
  while (noun2 === noun) noun2 = pick(rng, TITLE_NOUNS);
  const base = pick(rng, TITLE_PATTERNS)({ adj: pick(rng, TITLE_ADJECTIVES), noun, noun2, place: pick(rng, PLACES) });
  return rng() < 0.08 ? `${base} II` : base;
}

function makeOverview(rng: Rng): string {
  const role = pick(rng, ROLES);
  const article = /^[aeiou]/i.test(role) ? "An" : "A";
  return `${article} ${role} from ${pick(rng, PLACES)} ${pick(rng, INCIDENTS)}. ${pick(rng, COMPLICATIONS)}, ${pick(rng, GOALS)}.`;
}
