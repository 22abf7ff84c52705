/** `movie_title_words`: the distinct words of movie titles, filled by triggers (migration 0012), read by the typo search. */
import { defineEntity, p } from "@mikro-orm/core";

export const MovieTitleWordSchema = defineEntity({
  name: "MovieTitleWord",
  tableName: "movie_title_words",
  properties: {
    word: p.text().primary(),
  },
});

export class MovieTitleWord extends MovieTitleWordSchema.class {}
MovieTitleWordSchema.setClass(MovieTitleWord);
