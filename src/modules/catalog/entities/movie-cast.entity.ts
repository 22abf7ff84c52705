/** `movie_cast`: who plays whom in a movie, in billing order. */
import { defineEntity, p } from "@mikro-orm/core";
import { Movie } from "./movie.entity.ts";
import { Person } from "./person.entity.ts";

export const MovieCastSchema = defineEntity({
  name: "MovieCast",
  tableName: "movie_cast",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    movie: () => p.manyToOne(Movie).ref().deleteRule("cascade"),
    person: () => p.manyToOne(Person).ref().deleteRule("cascade"),
    character: p.string().length(200),
    /** Billing order, 0 first (column `"order"`). */
    order: p.integer(),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class MovieCast extends MovieCastSchema.class {}
MovieCastSchema.setClass(MovieCast);
