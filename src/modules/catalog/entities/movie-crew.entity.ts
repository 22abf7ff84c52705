/** `movie_crew`: who did which job on a movie (TMDb free text: 'Director', 'Producer', …). */
import { defineEntity, p } from "@mikro-orm/core";
import { Movie } from "./movie.entity.ts";
import { Person } from "./person.entity.ts";

export const MovieCrewSchema = defineEntity({
  name: "MovieCrew",
  tableName: "movie_crew",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    movie: () => p.manyToOne(Movie).ref().deleteRule("cascade"),
    person: () => p.manyToOne(Person).ref().deleteRule("cascade"),
    job: p.string().length(100),
    department: p.string().length(50),
    createdAt: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class MovieCrew extends MovieCrewSchema.class {}
MovieCrewSchema.setClass(MovieCrew);
