/**
 * Migration 0012: the vocabulary of movie titles, for SearchMovies' typo tolerance. Trigram similarity of a
 * query to a whole title misses a misspelt word in a long title ("lanturn" in "Green Lantern": similarity
 * 0.45 to the word, far less to the title), so the search first corrects each query word against this table
 * of distinct title words (trigram candidates, then an edit-distance check) and looks the corrected words up
 * in the title index (src/modules/catalog/title-typos.ts).
 * - Words are lower-case runs of letters and digits of `title` and `original_title`, 3 to 40 characters: the
 *   same split as titleWords() in title-typos.ts.
 * - Triggers keep it filled: a statement trigger with a transition table for inserts (bulk imports pay one
 *   set-based insert per statement), a row trigger for updates that change a title. Words are never removed:
 *   a word no title uses any more only costs a look-up that finds nothing.
 */
import { Migration } from "@mikro-orm/migrations";

const WORDS_OF = (rows: string) => `
  insert into movie_title_words (word)
  select distinct w from ${rows}, regexp_split_to_table(lower(r.title || ' ' || r.original_title), '[^[:alnum:]]+') as w
   where length(w) between 3 and 40
  on conflict do nothing`;

export class TitleWords extends Migration {
  override up(): void {
    this.addSql("create table movie_title_words (word text primary key)");
    this.addSql("create index idx_movie_title_words_trgm on movie_title_words using gin (word gin_trgm_ops)");
    this.addSql(`create function movie_title_words_from_new_rows() returns trigger language plpgsql as $$
      begin ${WORDS_OF("new_rows r")}; return null; end $$`);
    this.addSql(`create function movie_title_words_from_row() returns trigger language plpgsql as $$
      begin ${WORDS_OF("(select new.title, new.original_title) r")}; return null; end $$`);
    this.addSql(`create trigger movies_title_words_insert after insert on movies
      referencing new table as new_rows for each statement execute function movie_title_words_from_new_rows()`);
    this.addSql(`create trigger movies_title_words_update after update of title, original_title on movies
      for each row when (old.title is distinct from new.title or old.original_title is distinct from new.original_title)
      execute function movie_title_words_from_row()`);
    this.addSql(WORDS_OF("movies r"));
  }

  override down(): void {
    this.addSql("drop trigger if exists movies_title_words_update on movies");
    this.addSql("drop trigger if exists movies_title_words_insert on movies");
    this.addSql("drop function if exists movie_title_words_from_row()");
    this.addSql("drop function if exists movie_title_words_from_new_rows()");
    this.addSql("drop table if exists movie_title_words");
  }
}
