/** `movies`: the catalogue, imported from TMDb/OMDb. `isActive = false` hides a movie without deleting its history. */
import { defineEntity, p } from "@mikro-orm/core";

/** TMDb release statuses (the database CHECK allows exactly these). */
export const MOVIE_STATUSES = ["Rumored", "Planned", "In Production", "Post Production", "Released", "Canceled"] as const;
export type MovieStatus = (typeof MOVIE_STATUSES)[number];

/** A 0–10 rating with one decimal (`numeric(3,1)`), read as a JS number. */
const rating = () => p.decimal("number").precision(3).scale(1).nullable();

export const MovieSchema = defineEntity({
  name: "Movie",
  tableName: "movies",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    tmdbId: p.integer().unique(),
    imdbId: p.string().length(20).nullable().unique(),
    title: p.string().length(200),
    originalTitle: p.string().length(200),
    overview: p.text().default(""),
    tagline: p.string().length(300).default(""),
    /** `YYYY-MM-DD`. */
    releaseDate: p.date().nullable(),
    /** Minutes. */
    runtime: p.integer().nullable(),
    budget: p.bigint("number").nullable(),
    revenue: p.bigint("number").nullable(),
    status: p.enum(MOVIE_STATUSES).columnType("varchar(20)").default("Released"),
    tmdbRating: rating(),
    tmdbVoteCount: p.integer().default(0),
    imdbRating: rating(),
    /** Mean of our users' ratings, on TMDb's 0–10 scale. */
    ourRating: rating(),
    posterPath: p.string().length(200).nullable(),
    backdropPath: p.string().length(200).nullable(),
    popularityScore: p.double().default(0),
    viewCount: p.integer().default(0),
    likeCount: p.integer().default(0),
    adult: p.boolean().default(false),
    video: p.boolean().default(false),
    originalLanguage: p.string().length(10),
    isActive: p.boolean().default(true),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

export class Movie extends MovieSchema.class {}
MovieSchema.setClass(Movie);
