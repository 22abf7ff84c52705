/** Catalog entities: movies, genres, people and companies, and the links between them. */
import { GenreSchema } from "./genre.entity.ts";
import { KeywordSchema } from "./keyword.entity.ts";
import { MovieCastSchema } from "./movie-cast.entity.ts";
import { MovieCrewSchema } from "./movie-crew.entity.ts";
import { MovieGenreSchema } from "./movie-genre.entity.ts";
import { MovieKeywordSchema } from "./movie-keyword.entity.ts";
import { MovieProductionCompanySchema } from "./movie-production-company.entity.ts";
import { MovieSchema } from "./movie.entity.ts";
import { MovieTitleWordSchema } from "./movie-title-word.entity.ts";
import { PersonSchema } from "./person.entity.ts";
import { ProductionCompanySchema } from "./production-company.entity.ts";

export { Genre, GenreSchema } from "./genre.entity.ts";
export { Keyword, KeywordSchema } from "./keyword.entity.ts";
export { MovieCast, MovieCastSchema } from "./movie-cast.entity.ts";
export { MovieCrew, MovieCrewSchema } from "./movie-crew.entity.ts";
export { MovieGenre, MovieGenreSchema } from "./movie-genre.entity.ts";
export { MovieKeyword, MovieKeywordSchema } from "./movie-keyword.entity.ts";
export { MovieProductionCompany, MovieProductionCompanySchema } from "./movie-production-company.entity.ts";
export { MOVIE_STATUSES, Movie, MovieSchema, type MovieStatus } from "./movie.entity.ts";
export { MovieTitleWord, MovieTitleWordSchema } from "./movie-title-word.entity.ts";
export { Person, PersonSchema } from "./person.entity.ts";
export { ProductionCompany, ProductionCompanySchema } from "./production-company.entity.ts";

/** The catalog's entity schemas, for the ORM's `entities` option. */
export const catalogEntities = [
  GenreSchema,
  MovieSchema,
  MovieGenreSchema,
  PersonSchema,
  MovieCastSchema,
  MovieCrewSchema,
  ProductionCompanySchema,
  MovieProductionCompanySchema,
  KeywordSchema,
  MovieKeywordSchema,
  MovieTitleWordSchema,
];
