/** `movie_production_companies`: which companies produced a movie; each pair at most once. */
import { defineEntity, p } from "@mikro-orm/core";
import { Movie } from "./movie.entity.ts";
import { ProductionCompany } from "./production-company.entity.ts";

export const MovieProductionCompanySchema = defineEntity({
  name: "MovieProductionCompany",
  tableName: "movie_production_companies",
  uniques: [{ name: "unique_movie_company", properties: ["movie", "productionCompany"] }],
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    movie: () => p.manyToOne(Movie).ref().deleteRule("cascade"),
    productionCompany: () => p.manyToOne(ProductionCompany).ref().deleteRule("cascade"),
  },
});

export class MovieProductionCompany extends MovieProductionCompanySchema.class {}
MovieProductionCompanySchema.setClass(MovieProductionCompany);
