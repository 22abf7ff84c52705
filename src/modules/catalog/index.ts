/**
 * What other modules may use of the catalogue: the use cases (e.g. BatchGetMovies for
 * recommendation lists) and cache invalidation for writers outside this module (imports).
 */
export { createCatalogService, type CatalogService, type CatalogServiceDeps } from "./catalog-service.ts";
export { CatalogCache } from "./catalog-cache.ts";
export { createCatalogRpc } from "./catalog.rpc.ts";
export type { GenreRecord, MovieDetails, MovieRecord, PersonRecord } from "./catalog-types.ts";
