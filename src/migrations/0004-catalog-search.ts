/**
 * Migration 0004: indexes the catalogue's reads need beyond the design's (checked with EXPLAIN at
 * 50,000 movies in tests/catalog/explain.test.ts and the catalog bench).
 * - idx_movies_search_document: the design indexes only to_tsvector(title); SearchMovies matches a
 *   weighted document of title and original title (A), tagline (B) and overview (C). An expression
 *   index rather than a stored tsvector column keeps the table as designed; the query repeats the
 *   expression (searchDocument() in src/modules/catalog/movie-search.ts).
 * - idx_movies_original_title_trgm: typo-tolerant matches on original titles, like the design's
 *   idx_movies_title_trgm on titles.
 * - (sort key, id) b-trees: ListMovies pages by keyset on (key, id) in both directions; with the
 *   design's single-column indexes every page would re-sort a whole group of equal keys (all
 *   movies rated 7.5, say). Rating and release date are partial (NOT NULL): rows without a value
 *   are paged separately by id (see src/modules/catalog/movie-list.ts).
 */
import { Migration } from "@mikro-orm/migrations";

export class CatalogSearch extends Migration {
  override up(): void {
    this.addSql(`create index idx_movies_search_document on movies using gin ((
      setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', original_title), 'A') ||
      setweight(to_tsvector('english', tagline), 'B') || setweight(to_tsvector('english', overview), 'C')))`);
    this.addSql("create index idx_movies_original_title_trgm on movies using gin (original_title gin_trgm_ops)");
    this.addSql("create index idx_movies_popularity_id on movies (popularity_score, id)");
    this.addSql("create index idx_movies_rating_id on movies (tmdb_rating, id) where tmdb_rating is not null");
    this.addSql("create index idx_movies_release_date_id on movies (release_date, id) where release_date is not null");
    this.addSql("create index idx_movies_title_id on movies (title, id)");
  }

  override down(): void {
    for (const name of [
      "idx_movies_title_id",
      "idx_movies_release_date_id",
      "idx_movies_rating_id",
      "idx_movies_popularity_id",
      "idx_movies_original_title_trgm",
      "idx_movies_search_document",
    ]) {
      this.addSql(`drop index if exists ${name}`);
    }
  }
}
