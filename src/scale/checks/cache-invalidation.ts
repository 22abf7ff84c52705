/**
 * Caches seen across processes. The catalogue cache is in Redis, shared by every API process and invalidated by
 * generation after each write: a movie read through API B (so cached), edited by staff through API A, must read
 * edited through B at once, and so must B's cached first page of ListMovies — on B's first read after the edit, with no wait. (The session cache, per process, is
 * checked by the journey: a sign-out on one process is refused by the other within SESSION_CACHE_TTL_MS.)
 */
import { randomBytes } from "node:crypto";
import { as, type Api } from "../api.ts";
import { check } from "../report.ts";

export interface CacheResult {
  movieId: string;
  /** B's reads before the edit (the second one is a cache hit). */
  readsBefore: number;
}

export async function editSeenOnOtherApi(a: Api, b: Api, staffToken: string): Promise<CacheResult> {
  const { movies } = await b.catalog.listMovies({ pageSize: 5 });
  const movie = movies.at(-1);
  check(movie !== undefined, `ListMovies on ${b.name}: no movies`);
  for (let k = 0; k < 2; k++) {
    const got = await b.catalog.getMovie({ lookup: { case: "id", value: movie.id } });
    check(got.movie?.title === movie.title, `GetMovie ${movie.id} on ${b.name}: title ${JSON.stringify(got.movie?.title)}, expected ${JSON.stringify(movie.title)}`);
  }
  const title = `${movie.title} (edited ${randomBytes(3).toString("hex")})`;
  await a.catalog.updateMovie({ movie: { id: movie.id, title }, updateMask: { paths: ["title"] } }, as(staffToken));
  const after = await b.catalog.getMovie({ lookup: { case: "id", value: movie.id } });
  check(after.movie?.title === title, `GetMovie ${movie.id} on ${b.name} right after UpdateMovie on ${a.name}: title ${JSON.stringify(after.movie?.title)}, expected ${JSON.stringify(title)} (stale cache across processes)`);
  const list = await b.catalog.listMovies({ pageSize: 5 });
  const listed = list.movies.find((m) => m.id === movie.id);
  check(listed?.title === title, `ListMovies (first page, cached) on ${b.name} right after UpdateMovie on ${a.name}: title ${JSON.stringify(listed?.title)}, expected ${JSON.stringify(title)}`);
  const onA = await a.catalog.getMovie({ lookup: { case: "id", value: movie.id } });
  check(onA.movie?.title === title, `GetMovie ${movie.id} on ${a.name} after its own UpdateMovie: title ${JSON.stringify(onA.movie?.title)}`);
  return { movieId: movie.id, readsBefore: 2 };
}
