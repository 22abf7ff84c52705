/** Movie summaries for served lists, read with one query (the catalog's tables, read-only). */
import type { EntityManager } from "@mikro-orm/postgresql";

export interface MovieSummaryRow {
  id: string;
  tmdbId: number;
  title: string;
  releaseDate: string;
  posterPath: string;
  tmdbRating: number | null;
  popularityScore: number;
  genres: { id: string; tmdbId: number; name: string; slug: string }[];
}

/** Summaries by id (missing or hidden movies are absent from the map). */
export async function movieSummaries(em: EntityManager, ids: readonly string[]): Promise<Map<string, MovieSummaryRow>> {
  if (ids.length === 0) return new Map();
  const rows = await em.execute<{ id: string; tmdb_id: number; title: string; release_date: string | null; poster_path: string | null; tmdb_rating: string | number | null; popularity_score: number; genres: MovieSummaryRow["genres"] | null }[]>(
    `select m.id::text as id, m.tmdb_id, m.title, to_char(m.release_date, 'YYYY-MM-DD') as release_date, m.poster_path, m.tmdb_rating, m.popularity_score,
       (select json_agg(json_build_object('id', g.id::text, 'tmdbId', g.tmdb_id, 'name', g.name, 'slug', g.slug) order by g.name)
          from movie_genres mg join genres g on g.id = mg.genre_id where mg.movie_id = m.id) as genres
     from movies m where m.id = any(array[?]::bigint[]) and m.is_active`,
    [ids],
  );
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        tmdbId: r.tmdb_id,
        title: r.title,
        releaseDate: r.release_date ?? "",
        posterPath: r.poster_path ?? "",
        tmdbRating: r.tmdb_rating === null ? null : Number(r.tmdb_rating),
        popularityScore: r.popularity_score,
        genres: r.genres ?? [],
      },
    ]),
  );
}
