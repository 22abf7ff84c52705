/**
 * CatalogService handlers (reads and staff writes): protobuf in, use case, protobuf out. The
 * TMDb import methods live in catalog-import.rpc.ts.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { CatalogService, CreditKind, type GetMovieResponse, GetMovieResponseSchema, MovieOrderBy, SortDirection } from "../../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { MovieStatus as PbStatus } from "../../../gen/movierec/catalog/v1/catalog_pb.js";
import { type Caller, callerKey, requireStaff } from "../../platform/caller.ts";
import { InvalidInputError, PermissionError } from "../../platform/errors.ts";
import type { MovieDetails, MovieLookup } from "./catalog-types.ts";
import { type CatalogService as CatalogUseCases, type CatalogServiceDeps, createCatalogService } from "./catalog-service.ts";
import {
  castToPb,
  companyToPb,
  creditToPb,
  crewToPb,
  genreToPb,
  movieFieldsFromPb,
  movieSummaryToPb,
  movieToPb,
  personToPb,
  statusFilterFromPb,
} from "./catalog-mapping.rpc.ts";
import type { MovieOrder } from "./movie-list.ts";

type CatalogReadWriteMethods = Omit<ServiceImpl<typeof CatalogService>, "startTmdbImport" | "getImportJob">;

const ORDERS: Record<MovieOrderBy, MovieOrder> = {
  [MovieOrderBy.UNSPECIFIED]: "popularity",
  [MovieOrderBy.POPULARITY]: "popularity",
  [MovieOrderBy.RATING]: "rating",
  [MovieOrderBy.RELEASE_DATE]: "release_date",
  [MovieOrderBy.TITLE]: "title",
};

const CREDIT_KINDS = { [CreditKind.UNSPECIFIED]: "all", [CreditKind.CAST]: "cast", [CreditKind.CREW]: "crew" } as const;

/**
 * GetMovie's answer, made once per details object: details served from the process's local copy are the same frozen
 * object call after call (catalog-cache.ts), so their messages are too (connect only reads them).
 */
const movieResponses = new WeakMap<MovieDetails, GetMovieResponse>();
function movieResponseOf(d: MovieDetails) {
  let r = movieResponses.get(d);
  if (r === undefined) {
    r = create(GetMovieResponseSchema, { movie: movieToPb(d.movie), cast: d.cast.map(castToPb), crew: d.crew.map(crewToPb), companies: d.companies.map(companyToPb) });
    movieResponses.set(d, r);
  }
  return r;
}

/** The read and staff-write methods of CatalogService (over `deps.catalog` when given, e.g. in tests). */
export function createCatalogRpc(deps: CatalogServiceDeps & { catalog?: CatalogUseCases }): CatalogReadWriteMethods {
  const catalog = deps.catalog ?? createCatalogService(deps);
  return {
    async getMovie(req) {
      const l = req.lookup;
      const lookup: MovieLookup =
        l.case === "id" ? { by: "id", id: l.value } : l.case === "tmdbId" ? { by: "tmdb", tmdbId: l.value } : l.case === "imdbId" ? { by: "imdb", imdbId: l.value } : invalidLookup();
      return movieResponseOf(await catalog.getMovie(lookup, req.maxCast));
    },

    async batchGetMovies(req) {
      const r = await catalog.batchGetMovies(req.ids);
      return { movies: r.movies.map(movieToPb), missingIds: r.missingIds };
    },

    async listMovies(req) {
      const page = await catalog.listMovies({
        genreIds: req.genreIds,
        releaseYearMin: req.releaseYearMin,
        releaseYearMax: req.releaseYearMax,
        minRating: req.minRating,
        minVoteCount: req.minVoteCount,
        originalLanguage: req.originalLanguage || undefined,
        status: statusFilterFromPb(req.status),
        includeAdult: req.includeAdult,
        orderBy: ORDERS[req.orderBy] ?? "popularity",
        direction: req.direction === SortDirection.ASCENDING ? "asc" : req.direction === SortDirection.DESCENDING ? "desc" : undefined,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
      return { movies: page.items.map(movieToPb), nextPageToken: page.nextPageToken };
    },

    async searchMovies(req) {
      const page = await catalog.searchMovies({ query: req.query, includeAdult: req.includeAdult, pageSize: req.pageSize, pageToken: req.pageToken });
      return { movies: page.items.map(movieToPb), nextPageToken: page.nextPageToken };
    },

    async listGenres(req) {
      const page = await catalog.listGenres({ pageSize: req.pageSize, pageToken: req.pageToken });
      return { genres: page.items.map(genreToPb), nextPageToken: page.nextPageToken };
    },

    async getPerson(req) {
      const l = req.lookup;
      if (l.case === undefined) throw new InvalidInputError("give id or tmdb_id", "lookup");
      const r = await catalog.getPerson(l.case === "id" ? { by: "id", id: l.value } : { by: "tmdb", tmdbId: l.value });
      return { person: personToPb(r.person), knownFor: r.knownFor.map(movieSummaryToPb) };
    },

    async listPersonCredits(req) {
      const page = await catalog.listPersonCredits({ personId: req.personId, kind: CREDIT_KINDS[req.kind] ?? "all", pageSize: req.pageSize, pageToken: req.pageToken });
      return { credits: page.items.map(creditToPb), nextPageToken: page.nextPageToken };
    },

    // Staff writes: the auth interceptor enforces its rule table; this check is defence in depth.
    async createMovie(req, ctx) {
      requireCatalogWriter(ctx.values.get(callerKey));
      if (!req.movie) throw new InvalidInputError("is required", "movie");
      const movie = await catalog.createMovie(movieFieldsFromPb(req.movie, "Released"), req.requestId);
      return { movie: movieToPb(movie) };
    },

    async updateMovie(req, ctx) {
      requireCatalogWriter(ctx.values.get(callerKey));
      if (!req.movie) throw new InvalidInputError("is required", "movie");
      const paths = req.updateMask?.paths ?? [];
      if (paths.includes("status") && req.movie.status === PbStatus.UNSPECIFIED) throw new InvalidInputError("must be set", "status");
      const movie = await catalog.updateMovie(req.movie.id, paths, movieFieldsFromPb(req.movie, "Released"));
      return { movie: movieToPb(movie) };
    },

    async deleteMovie(req, ctx) {
      requireCatalogWriter(ctx.values.get(callerKey));
      await catalog.deleteMovie(req.movieId);
      return {};
    },
  };
}

/**
 * Defence in depth behind the auth interceptor's rule (staff, or a service token with the
 * `catalog.write` scope): a handler reached some other way still refuses other callers.
 */
function requireCatalogWriter(caller: Caller): void {
  if (caller.kind === "service") {
    if (!caller.scopes.includes("catalog.write")) throw new PermissionError("needs the catalog.write scope");
    return;
  }
  requireStaff(caller);
}

function invalidLookup(): never {
  throw new InvalidInputError("give id, tmdb_id or imdb_id", "lookup");
}
