/**
 * Migration 0002: TMDb keywords, which the design lacks. They come with every TMDb movie ("space war", "dystopia")
 * and are the densest content signal we get for content-based recommendations, so the imports keep them.
 * Same conventions as 0001 (identity ids, NOT NULL unless optional, timestamptz, PostgreSQL-default names).
 */
import { Migration } from "@mikro-orm/migrations";
import { created, id } from "./0001-common.ts";

export class CatalogKeywords extends Migration {
  override up(): void {
    this.addSql(`create table keywords (
      ${id} primary key,
      tmdb_id integer not null unique,
      name varchar(200) not null,
      ${created}
    )`);
    // Exact-name look-ups ("movies tagged 'time travel'") and the content-based model's vocabulary scans.
    this.addSql("create index idx_keywords_name on keywords (name)");
    this.addSql(`create table movie_keywords (
      ${id} primary key,
      movie_id bigint not null references movies (id) on delete cascade,
      keyword_id bigint not null references keywords (id) on delete cascade,
      constraint unique_movie_keyword unique (movie_id, keyword_id)
    )`);
    // The unique constraint serves look-ups by movie; this one serves "movies with keyword k" and cascades.
    this.addSql("create index idx_movie_keywords_keyword on movie_keywords (keyword_id)");
  }

  override down(): void {
    this.addSql("drop table if exists movie_keywords");
    this.addSql("drop table if exists keywords");
  }
}
