/** `movie_genres`: which genres a movie has; each pair at most once. */
import { defineEntity, p } from "@mikro-orm/core";
import { Genre } from "./genre.entity.ts";
import { Movie } from "./movie.entity.ts";

export const MovieGenreSchema = defineEntity({
  name: "MovieGenre",
  tableName: "movie_genres",
  uniques: [{ name: "unique_movie_genre", properties: ["movie", "genre"] }],
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    movie: () => p.manyToOne(Movie).ref().deleteRule("cascade"),
    genre: () => p.manyToOne(Genre).ref().deleteRule("cascade"),
  },
});

export class MovieGenre extends MovieGenreSchema.class {}
MovieGenreSchema.setClass(MovieGenre);
