/** ListGenres: every genre by name (there are a few dozen at most). */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { GenreRecord } from "./catalog-types.ts";

/** All genres ordered by name; callers page the (small, cached) list themselves. */
export async function allGenres(em: EntityManager): Promise<GenreRecord[]> {
  const rows = await em.execute<{ id: string; tmdb_id: number; name: string; slug: string }[]>(
    "select g.id::text as id, g.tmdb_id, g.name, g.slug from genres g order by g.name, g.id",
  );
  return rows.map((r) => ({ id: r.id, tmdbId: r.tmdb_id, name: r.name, slug: r.slug }));
}
