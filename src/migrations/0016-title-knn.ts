/**
 * Migration 0016: GiST trigram indexes on movies.title and movies.original_title, so SearchMovies' whole-title typo
 * candidates are the nearest titles by KNN (`order by title <-> $1 limit 200`, and `$1 <<-> title` for word
 * similarity) instead of every title over the similarity threshold. With real titles, a misspelt query sharing
 * common trigrams ("star wras": " st", "ar ") made the planner scan all of movies computing similarity (2 s at
 * 60,000 movies under load), because a GIN bitmap over such trigrams looked dearer; an index-ordered scan that
 * stops after 200 rows has no such plan to fall into. The GIN indexes stay for the `%` filters elsewhere.
 */
import { Migration } from "@mikro-orm/migrations";

export class TitleKnn extends Migration {
  override up(): void {
    this.addSql("create index idx_movies_title_trgm_gist on movies using gist (title gist_trgm_ops)");
    this.addSql("create index idx_movies_original_title_trgm_gist on movies using gist (original_title gist_trgm_ops)");
  }

  override down(): void {
    this.addSql("drop index if exists idx_movies_original_title_trgm_gist");
    this.addSql("drop index if exists idx_movies_title_trgm_gist");
  }
}
