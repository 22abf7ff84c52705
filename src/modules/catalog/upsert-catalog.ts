/**
 * Writes imported movies with everything attached (genres, companies, keywords, people, cast, crew)
 * in a few set-based statements per batch. Shared by the TMDb API job and the dataset import, so both
 * follow one rule: what a source does not provide (`undefined`) is left as it is in the database;
 * what it provides replaces what is there, and only where it differs.
 */
import type { MovieStatus } from "./entities/index.ts";
import type { SqlClient } from "./import-sql.ts";
import { replaceMovieLinks, upsertByTmdbId, type Column, type UpsertResult } from "./upsert-rows.ts";

export interface GenreRecord {
  readonly tmdbId: number;
  readonly name: string;
}

export interface CompanyRecord {
  readonly tmdbId: number;
  readonly name: string;
  readonly logoPath?: string | null;
  /** ISO 3166-1 code; '' or absent when the source does not say (an existing value is then kept). */
  readonly originCountry?: string;
}

export interface KeywordRecord {
  readonly tmdbId: number;
  readonly name: string;
}

export interface PersonRecord {
  readonly tmdbId: number;
  readonly name: string;
  readonly knownForDepartment: string;
  readonly profilePath?: string | null;
  readonly popularity?: number;
  readonly biography?: string;
  readonly birthday?: string | null;
  readonly deathday?: string | null;
  readonly placeOfBirth?: string;
}

export interface MovieRecord {
  readonly tmdbId: number;
  readonly title: string;
  readonly originalTitle: string;
  readonly overview: string;
  readonly tagline: string;
  /** `YYYY-MM-DD`. */
  readonly releaseDate: string | null;
  readonly runtime: number | null;
  readonly budget: number | null;
  readonly revenue: number | null;
  readonly status: MovieStatus;
  /** 0–10 with one decimal. */
  readonly tmdbRating: number | null;
  readonly tmdbVoteCount: number;
  readonly popularityScore: number;
  readonly originalLanguage: string;
  readonly imdbId?: string | null;
  readonly posterPath?: string | null;
  readonly backdropPath?: string | null;
  readonly adult?: boolean;
  readonly video?: boolean;
  /** From OMDb when configured; null (no rating known) keeps the stored one. */
  readonly imdbRating?: number | null;
  /** `undefined`: the source says nothing about it (links left alone); `[]`: it has none. */
  readonly genres?: readonly GenreRecord[];
  readonly companies?: readonly CompanyRecord[];
  readonly keywords?: readonly KeywordRecord[];
  readonly cast?: ReadonlyArray<{ readonly person: PersonRecord; readonly character: string; readonly order: number }>;
  readonly crew?: ReadonlyArray<{ readonly person: PersonRecord; readonly job: string; readonly department: string }>;
}

/** What happened to each movie of a batch, by TMDb id. */
export interface SaveResult {
  /** New movies. */
  readonly imported: number[];
  /** Existing movies whose row or links changed. */
  readonly updated: number[];
  /** Existing movies left exactly as they were. */
  readonly unchanged: number[];
  /** Database id of every movie of the batch, by TMDb id (for cache invalidation). */
  readonly ids: ReadonlyMap<number, string>;
}

/** Lower-case ASCII words joined by '-', at most 50 characters: "Science Fiction" → "science-fiction". */
export function slugify(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/&/g, " and ")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return slug.slice(0, 50).replace(/-+$/, "") || "genre";
}

/** Cuts a string to a column's length (TMDb has no length limits; our varchar columns do). */
export function clip(s: string | null | undefined, max: number): string {
  if (!s) return "";
  return s.length <= max ? s : s.slice(0, max);
}

const keepIfNull = (name: string) => `coalesce(excluded.${name}, $t.${name})`;

/** The optional columns that every record of the batch defines (a source defines a field for all its records). */
function present<T>(records: readonly T[], optional: ReadonlyArray<readonly [keyof T & string, Column]>): Array<readonly [keyof T & string, Column]> {
  return optional.filter(([key]) => records.every((r) => r[key] !== undefined));
}

function buildRows<T extends { tmdbId: number }>(records: readonly T[], cols: ReadonlyArray<readonly [keyof T & string, Column]>): unknown[][] {
  return records.map((r) => [r.tmdbId, ...cols.map(([key]) => r[key])]);
}

export async function upsertGenres(client: SqlClient, genres: readonly GenreRecord[]) {
  const cols = [
    ["name", { name: "name", type: "text" }],
    ["slug", { name: "slug", type: "text" }],
  ] as const;
  return upsertByTmdbId(client, "genres", cols.map(([, c]) => c), genres.map((g) => [g.tmdbId, clip(g.name, 100), slugify(g.name)]));
}

export async function upsertCompanies(client: SqlClient, companies: readonly CompanyRecord[]) {
  const records = companies.map((c) => ({ ...c, name: clip(c.name, 200), originCountry: clip(c.originCountry, 10) }));
  const cols: Array<readonly [keyof (typeof records)[number] & string, Column]> = [
    ["name", { name: "name", type: "text" }],
    // Company lists inside movies (and the TMDb 5000 file) often lack the country and logo: never erase them.
    ["originCountry", { name: "origin_country", type: "text", onUpdate: "case when excluded.origin_country = '' then $t.origin_country else excluded.origin_country end" }],
    ...present(records, [["logoPath", { name: "logo_path", type: "text", onUpdate: keepIfNull("logo_path") }]]),
  ];
  return upsertByTmdbId(client, "production_companies", cols.map(([, c]) => c), buildRows(records, cols));
}

export async function upsertKeywords(client: SqlClient, keywords: readonly KeywordRecord[]) {
  return upsertByTmdbId(client, "keywords", [{ name: "name", type: "text" }], keywords.map((k) => [k.tmdbId, clip(k.name, 200)]));
}

/** Several records of one person (cast and crew, credits and details) merged: later defined fields win. */
function mergePeople(people: readonly PersonRecord[]): PersonRecord[] {
  const byId = new Map<number, PersonRecord>();
  for (const p of people) {
    const defined = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as Partial<PersonRecord>;
    byId.set(p.tmdbId, { ...byId.get(p.tmdbId), ...defined } as PersonRecord);
  }
  return [...byId.values()];
}

/** Upserts people; those with details (biography, …) and those known from credits only are written apart. */
export async function upsertPersons(client: SqlClient, people: readonly PersonRecord[]): Promise<UpsertResult> {
  const groups = new Map<string, PersonRecord[]>();
  for (const p of mergePeople(people)) {
    const signature = Object.keys(p).filter((k) => p[k as keyof PersonRecord] !== undefined).sort().join(",");
    groups.set(signature, [...(groups.get(signature) ?? []), p]);
  }
  const all: UpsertResult = { ids: new Map(), inserted: new Set(), updated: new Set() };
  for (const group of groups.values()) {
    const r = await upsertPersonGroup(client, group);
    for (const [k, v] of r.ids) all.ids.set(k, v);
    for (const k of r.inserted) all.inserted.add(k);
    for (const k of r.updated) all.updated.add(k);
  }
  return all;
}

async function upsertPersonGroup(client: SqlClient, people: readonly PersonRecord[]) {
  const records = people.map((p) => ({
    ...p,
    name: clip(p.name, 200),
    knownForDepartment: clip(p.knownForDepartment, 50),
    placeOfBirth: p.placeOfBirth === undefined ? undefined : clip(p.placeOfBirth, 200),
    popularity: p.popularity === undefined ? undefined : Math.max(0, p.popularity),
  }));
  type P = (typeof records)[number];
  const cols: Array<readonly [keyof P & string, Column]> = [
    ["name", { name: "name", type: "text" }],
    ["knownForDepartment", { name: "known_for_department", type: "text" }],
    ...present<P>(records, [
      ["profilePath", { name: "profile_path", type: "text", onUpdate: keepIfNull("profile_path") }],
      ["popularity", { name: "popularity", type: "float8" }],
      ["biography", { name: "biography", type: "text" }],
      ["birthday", { name: "birthday", type: "date" }],
      ["deathday", { name: "deathday", type: "date" }],
      ["placeOfBirth", { name: "place_of_birth", type: "text" }],
    ]),
  ];
  return upsertByTmdbId(client, "persons", cols.map(([, c]) => c), buildRows(records, cols));
}

type M = MovieRecord;
const MOVIE_COLUMNS: ReadonlyArray<readonly [keyof M & string, Column]> = [
  ["title", { name: "title", type: "text" }],
  ["originalTitle", { name: "original_title", type: "text" }],
  ["overview", { name: "overview", type: "text" }],
  ["tagline", { name: "tagline", type: "text" }],
  ["releaseDate", { name: "release_date", type: "date" }],
  ["runtime", { name: "runtime", type: "int" }],
  ["budget", { name: "budget", type: "bigint" }],
  ["revenue", { name: "revenue", type: "bigint" }],
  ["status", { name: "status", type: "text" }],
  ["tmdbRating", { name: "tmdb_rating", type: "numeric" }],
  ["tmdbVoteCount", { name: "tmdb_vote_count", type: "int" }],
  ["popularityScore", { name: "popularity_score", type: "float8" }],
  ["originalLanguage", { name: "original_language", type: "text" }],
];
const MOVIE_OPTIONAL: ReadonlyArray<readonly [keyof M & string, Column]> = [
  ["imdbId", { name: "imdb_id", type: "text", onUpdate: keepIfNull("imdb_id") }],
  ["posterPath", { name: "poster_path", type: "text", onUpdate: keepIfNull("poster_path") }],
  ["backdropPath", { name: "backdrop_path", type: "text", onUpdate: keepIfNull("backdrop_path") }],
  ["adult", { name: "adult", type: "bool" }],
  ["video", { name: "video", type: "bool" }],
  ["imdbRating", { name: "imdb_rating", type: "numeric", onUpdate: keepIfNull("imdb_rating") }],
];

function normaliseMovie(m: MovieRecord): MovieRecord {
  return {
    ...m,
    title: clip(m.title, 200),
    originalTitle: clip(m.originalTitle, 200),
    tagline: clip(m.tagline, 300),
    originalLanguage: clip(m.originalLanguage, 10),
    posterPath: m.posterPath === undefined ? undefined : m.posterPath && clip(m.posterPath, 200),
    backdropPath: m.backdropPath === undefined ? undefined : m.backdropPath && clip(m.backdropPath, 200),
  };
}

/** Links of the movies that define `key`, as rows for `replaceMovieLinks`. */
function links<K extends "genres" | "companies" | "keywords" | "cast" | "crew">(
  movies: readonly MovieRecord[],
  ids: Map<number, string>,
  key: K,
  row: (item: NonNullable<MovieRecord[K]>[number], movieId: string) => unknown[] | undefined,
): { movieIds: string[]; rows: unknown[][] } {
  const movieIds: string[] = [];
  const rows: unknown[][] = [];
  for (const m of movies) {
    const items = m[key] as ReadonlyArray<NonNullable<MovieRecord[K]>[number]> | undefined;
    const movieId = ids.get(m.tmdbId);
    if (items === undefined || movieId === undefined) continue;
    movieIds.push(movieId);
    for (const item of items) {
      const r = row(item, movieId);
      if (r) rows.push(r);
    }
  }
  return { movieIds, rows };
}

/**
 * Upserts a batch of movies with their genres, companies, keywords, people and credits. Call inside a
 * transaction: the batch is then applied whole or not at all. Movies repeating a TMDb id: the last wins.
 */
export async function saveMovies(client: SqlClient, batch: readonly MovieRecord[]): Promise<SaveResult> {
  const movies = [...new Map(batch.map((m) => [m.tmdbId, normaliseMovie(m)])).values()];
  if (movies.length === 0) return { imported: [], updated: [], unchanged: [], ids: new Map() };
  const genres = await upsertGenres(client, movies.flatMap((m) => m.genres ?? []));
  const companies = await upsertCompanies(client, movies.flatMap((m) => m.companies ?? []));
  const keywords = await upsertKeywords(client, movies.flatMap((m) => m.keywords ?? []));
  const persons = await upsertPersons(client, movies.flatMap((m) => [...(m.cast ?? []).map((c) => c.person), ...(m.crew ?? []).map((c) => c.person)]));

  const cols = [...MOVIE_COLUMNS, ...present(movies, MOVIE_OPTIONAL)];
  const saved = await upsertByTmdbId(client, "movies", cols.map(([, c]) => c), buildRows(movies, cols), { touch: "updated_at" });

  const changed = new Set<string>();
  const apply = async (table: string, columns: Column[], l: { movieIds: string[]; rows: unknown[][] }) => {
    for (const id of await replaceMovieLinks(client, table, columns, l.movieIds, l.rows)) changed.add(id);
  };
  const id = (map: Map<number, string>, tmdbId: number) => map.get(tmdbId);
  await apply("movie_genres", [{ name: "genre_id", type: "bigint" }], links(movies, saved.ids, "genres", (g, m) => [m, id(genres.ids, g.tmdbId)]));
  await apply(
    "movie_production_companies",
    [{ name: "production_company_id", type: "bigint" }],
    links(movies, saved.ids, "companies", (c, m) => [m, id(companies.ids, c.tmdbId)]),
  );
  await apply("movie_keywords", [{ name: "keyword_id", type: "bigint" }], links(movies, saved.ids, "keywords", (k, m) => [m, id(keywords.ids, k.tmdbId)]));
  await apply(
    "movie_cast",
    [
      { name: "person_id", type: "bigint" },
      { name: "character", type: "text" },
      { name: "order", type: "int" },
    ],
    links(movies, saved.ids, "cast", (c, m) => [m, id(persons.ids, c.person.tmdbId), clip(c.character, 200), Math.max(0, c.order)]),
  );
  await apply(
    "movie_crew",
    [
      { name: "person_id", type: "bigint" },
      { name: "job", type: "text" },
      { name: "department", type: "text" },
    ],
    links(movies, saved.ids, "crew", (c, m) => [m, id(persons.ids, c.person.tmdbId), clip(c.job, 100), clip(c.department, 50)]),
  );

  const result: SaveResult = { imported: [], updated: [], unchanged: [], ids: saved.ids };
  for (const m of movies) {
    if (saved.inserted.has(m.tmdbId)) result.imported.push(m.tmdbId);
    else if (saved.updated.has(m.tmdbId) || changed.has(saved.ids.get(m.tmdbId)!)) result.updated.push(m.tmdbId);
    else result.unchanged.push(m.tmdbId);
  }
  return result;
}
