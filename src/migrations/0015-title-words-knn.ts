/**
 * Migration 0015: the title vocabulary's trigram index becomes GiST, so the typo correction finds each misspelt
 * word's nearest title words by KNN (`order by word <-> $1 limit n`) in the same statement that checks which
 * query words are known. The GIN index of 0012 answered `word % $1` only under a lowered
 * `pg_trgm.similarity_threshold`, which took a transaction of four round trips per search (begin, set_config,
 * select, commit) on top of the known-word look-up; GiST ranks by distance with no threshold at all.
 */
import { Migration } from "@mikro-orm/migrations";

export class TitleWordsKnn extends Migration {
  override up(): void {
    this.addSql("create index idx_movie_title_words_trgm_gist on movie_title_words using gist (word gist_trgm_ops)");
    this.addSql("drop index if exists idx_movie_title_words_trgm");
  }

  override down(): void {
    this.addSql("create index if not exists idx_movie_title_words_trgm on movie_title_words using gin (word gin_trgm_ops)");
    this.addSql("drop index if exists idx_movie_title_words_trgm_gist");
  }
}
