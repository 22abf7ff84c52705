/**
 * SearchMovies: three candidate sources merged and ranked in one statement.
 * - full text over title, original title (weight A), tagline (B) and overview (C), through the GIN
 *   expression index of migration 0004 (`websearch_to_tsquery` accepts any text: quotes, operators
 *   and stray punctuation are read as words, never as syntax);
 * - title words alone (the design's title index), so a title match always makes the candidates;
 * - people: a cast or crew member whose name matches brings their movies in;
 * - typos, only when the words matched (almost) nothing: pg_trgm similarity of the query to the
 *   title or original title, whole or word by word ("avtar" → Avatar), and each misspelt word corrected
 *   against the title vocabulary ("green lanturn" → green & lantern; see title-typos.ts), its hits ranked
 *   by the corrections' similarity, then popularity.
 * Each source is capped, so a very common word costs a bounded amount of work; the merged
 * candidates are ranked by relevance plus a small popularity term, and paged by (score, id).
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { InvalidInputError } from "../../platform/errors.ts";
import type { MovieRecord, Page } from "./catalog-types.ts";
import { decodeCursor, encodeCursor, fingerprint, pageSize } from "./cursor.ts";
import { MOVIE_COLUMNS, type MovieRow, withGenres } from "./movie-rows.ts";
import { typoLookups, type TitleLookup } from "./title-typos.ts";

/** Longest accepted query, in characters (the proto allows the same). */
export const MAX_QUERY_LENGTH = 500;

/**
 * The weighted document of movie `alias`; it must stay the expression of `idx_movies_search_document`
 * (migration 0004) or PostgreSQL cannot use the index (tests/catalog/explain.test.ts checks that it does).
 */
export function searchDocument(alias: string): string {
  const w = (col: string, weight: string) => `setweight(to_tsvector('english', ${alias}.${col}), '${weight}')`;
  return `(${w("title", "A")} || ${w("original_title", "A")} || ${w("tagline", "B")} || ${w("overview", "C")})`;
}

/** Per-source caps on candidates. */
const TEXT_CANDIDATES = 500;
const TITLE_CANDIDATES = 200;
const TITLE_TYPO_CANDIDATES = 200;
const PEOPLE = 100;
/** Typo matching runs only when the words themselves matched fewer movies than this. */
const TYPO_WHEN_FEWER_THAN = 10;

export interface SearchMoviesQuery {
  query: string;
  includeAdult?: boolean;
  pageSize?: number;
  pageToken?: string;
}

/** Trims, drops NUL and other control characters PostgreSQL text cannot hold or that mean nothing, collapses spaces. */
export function cleanQuery(raw: string): string {
  if (raw.length > MAX_QUERY_LENGTH) throw new InvalidInputError(`must be at most ${MAX_QUERY_LENGTH} characters`, "query");
  // eslint-disable-next-line no-control-regex
  return raw.replace(/[\u0000-\u001f\u007f]/g, " ").replace(/\s+/g, " ").trim();
}

/** SQL of one page of results. Exported for the EXPLAIN checks. */
export function searchMoviesSql(
  query: string,
  includeAdult: boolean,
  cursor: { key: number; id: string } | undefined,
  limit: number,
  lookups: readonly TitleLookup[] = [],
): { sql: string; params: unknown[] } {
  // websearch_to_tsquery(regconfig, text) is immutable: PostgreSQL folds each one to a constant,
  // so every branch below can use its index.
  const tsq = "websearch_to_tsquery('english', ?)";
  const sql = `
with text_hits as (
  -- The most popular matches only: ranking re-parses each document, so it is bounded here.
  select c.id, ts_rank_cd(${searchDocument("c")}, ${tsq}, 32) as rel
    from (select m.id, m.title, m.original_title, m.tagline, m.overview from movies m
           where ${searchDocument("m")} @@ ${tsq} order by m.popularity_score desc limit ${TEXT_CANDIDATES}) c
), title_hits as (
  -- Title words (the design's idx_movies_title_search), so a title match is never crowded out above.
  select m.id, 0.6 + 0.4 * ts_rank_cd(to_tsvector('english', m.title), ${tsq}, 32) as rel
    from movies m where to_tsvector('english', m.title) @@ ${tsq}
   order by m.popularity_score desc limit ${TITLE_CANDIDATES}
), people as (
  select p.id from persons p where to_tsvector('english', p.name) @@ ${tsq} order by p.popularity desc limit ${PEOPLE}
), people_hits as (
  select c.movie_id as id, 0.6::float8 as rel from people pp join movie_cast c on c.person_id = pp.id
  union all
  select c.movie_id as id, 0.6::float8 as rel from people pp join movie_crew c on c.person_id = pp.id
), exact as (
  select count(*) as n from (select id from text_hits union select id from title_hits union select id from people_hits) x
), typo_hits as (
  -- Only when the words found (almost) nothing: trigram similarity of the whole title ("avtar" → Avatar)
  -- or of its best-matching words ("avtar way of water"). The condition on exact is evaluated once.
  -- Candidates are the nearest titles by each measure through the GiST indexes (migration 0016): the best
  -- ${TITLE_TYPO_CANDIDATES} by max(similarity, word similarity) are among them, and the scan stops there.
  (select m.id, greatest(similarity(m.title, ?), word_similarity(?, m.title)) * 0.8 as rel
     from ((select id from movies where (select n from exact) < ${TYPO_WHEN_FEWER_THAN} order by title <-> ? limit ${TITLE_TYPO_CANDIDATES})
           union (select id from movies where (select n from exact) < ${TYPO_WHEN_FEWER_THAN} order by ? <<-> title limit ${TITLE_TYPO_CANDIDATES})) k
     join movies m on m.id = k.id
    where m.title % ? or ? <% m.title
    order by rel desc limit ${TITLE_TYPO_CANDIDATES})
  union all
  (select m.id, greatest(similarity(m.original_title, ?), word_similarity(?, m.original_title)) * 0.7 as rel
     from ((select id from movies where (select n from exact) < ${TYPO_WHEN_FEWER_THAN} order by original_title <-> ? limit ${TITLE_TYPO_CANDIDATES})
           union (select id from movies where (select n from exact) < ${TYPO_WHEN_FEWER_THAN} order by ? <<-> original_title limit ${TITLE_TYPO_CANDIDATES})) k
     join movies m on m.id = k.id
    where m.original_title % ? or ? <% m.original_title
    order by rel desc limit ${TITLE_TYPO_CANDIDATES})
), word_fix_hits as (
  -- Titles holding the corrected words (title-typos.ts), through the title index; similarity first.
  select f.id, 0.3 + 0.4 * l.sim as rel
    from jsonb_to_recordset(?::jsonb) as l(q text, sim float8)
   cross join lateral (select m.id from movies m
     where (select n from exact) < ${TYPO_WHEN_FEWER_THAN} and to_tsvector('english', m.title) @@ to_tsquery('english', l.q)
     order by m.popularity_score desc limit ${TITLE_TYPO_CANDIDATES}) f
), candidates as (
  select id, max(rel) as rel from (
    select id, rel from text_hits union all select id, rel from title_hits
    union all select id, rel from people_hits union all select id, rel from typo_hits
    union all select id, rel from word_fix_hits
  ) hits group by id
), scored as (
  select ${MOVIE_COLUMNS}, m.id as id_num,
         c.rel + case when lower(m.title) = lower(?) then 0.5 else 0 end + 0.02 * ln(1 + m.popularity_score) as score
    from candidates c join movies m on m.id = c.id
   where m.is_active ${includeAdult ? "" : "and not m.adult"}
)
select * from scored ${cursor ? "where (score, id_num) < (?::float8, ?::bigint)" : ""}
 order by score desc, id_num desc limit ${limit}`;
  // Parameters in textual order of the placeholders above.
  const params: unknown[] = [query, query]; // text_hits: rank, match
  params.push(query, query); // title_hits: rank, match
  params.push(query); // people
  params.push(query, query, query, query, query, query, query, query, query, query, query, query); // typo_hits: rel, 2 KNN, filter; twice
  // JSON rather than arrays: the ORM would expand an array parameter into a list.
  params.push(JSON.stringify(lookups.map((l) => ({ q: l.tsquery, sim: l.similarity })))); // word_fix_hits
  params.push(query); // exact title boost
  if (cursor) params.push(cursor.key, cursor.id);
  return { sql, params };
}

/** One page of search results, best first. */
export async function searchMovies(em: EntityManager, q: SearchMoviesQuery): Promise<Page<MovieRecord>> {
  const query = cleanQuery(q.query);
  const includeAdult = q.includeAdult ?? false;
  // Nothing to look for is a mistake of the caller, as an empty string is (the proto's min_len).
  if (query === "") throw new InvalidInputError("must contain something other than spaces and control characters", "query");
  const fp = fingerprint(["search", query, includeAdult]);
  const cursor = decodeCursor(q.pageToken ?? "", fp);
  if (cursor && typeof cursor.key !== "number") throw new InvalidInputError("is not a token returned by this method", "page_token");
  const size = pageSize(q.pageSize);
  const lookups = await typoLookups(em, query);
  const { sql, params } = searchMoviesSql(query, includeAdult, cursor as { key: number; id: string } | undefined, size + 1, lookups);
  const rows = await em.execute<(MovieRow & { score: number })[]>(sql, params);
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  const nextPageToken = rows.length > size && last ? encodeCursor({ key: Number(last.score), id: last.id }, fp) : "";
  return { items: await withGenres(em, page), nextPageToken };
}
