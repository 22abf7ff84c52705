/** `movie_keywords`: which TMDb keywords a movie has; each pair at most once. */
import { defineEntity, p } from "@mikro-orm/core";
import { Keyword } from "./keyword.entity.ts";
import { Movie } from "./movie.entity.ts";

export const MovieKeywordSchema = defineEntity({
  name: "MovieKeyword",
  tableName: "movie_keywords",
  uniques: [{ name: "unique_movie_keyword", properties: ["movie", "keyword"] }],
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    movie: () => p.manyToOne(Movie).ref().deleteRule("cascade"),
    keyword: () => p.manyToOne(Keyword).ref().deleteRule("cascade"),
  },
});

export class MovieKeyword extends MovieKeywordSchema.class {}
MovieKeywordSchema.setClass(MovieKeyword);
