/**
 * The Redis cache of GetMovie, ListGenres and first list pages: hits skip PostgreSQL, writes
 * invalidate, a read racing a write cannot re-cache the old row, and Redis being down (refused or
 * silent) degrades to PostgreSQL instead of failing.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Redis } from "ioredis";
import { CatalogCache, createCatalogService } from "../../src/modules/catalog/index.ts";
import { loadMovieDetails } from "../../src/modules/catalog/movie-details.ts";
import type { MovieDetails } from "../../src/modules/catalog/catalog-types.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createRedis } from "../../src/platform/redis.ts";
import { insertGenre, insertMovie, tag } from "./fixtures.ts";
import { startCatalogServer, type CatalogTestServer } from "./server.ts";
import { openTestRedis } from "../support/redis.ts";

const log = createLogger({ level: "silent" });
let s: CatalogTestServer;
const t = tag();
let genre = "";
/** A Redis client whose keys no other test file shares: other files' writes bump the shared generations. */
let redis: Redis;

/** Changes a title behind the cache's back, as a stale-cache detector. */
const sneakyRename = (id: string, title: string) => s.deps.orm.em.fork().execute("update movies set title = ? where id = ?", [title, id]);

beforeAll(async () => {
  s = await startCatalogServer();
  genre = await insertGenre(s.deps.orm, `Noir ${t}`);
  redis = await openTestRedis(`${inject("redisPrefix")}:cache-test-${t}:`);
});
afterAll(async () => {
  redis?.disconnect();
  await s?.close();
});

describe("cache", () => {
  it("serves GetMovie from Redis after the first read, until a write through the service", async () => {
    const catalog = createCatalogService({ orm: s.deps.orm, redis, log });
    const id = await insertMovie(s.deps.orm, { title: `Chinatown ${t}`, genreIds: [genre] });
    expect((await catalog.getMovie({ by: "id", id })).movie.title).toBe(`Chinatown ${t}`);
    await sneakyRename(id, `Renamed ${t}`);
    // Still the cached copy: the read did not reach PostgreSQL.
    expect((await catalog.getMovie({ by: "id", id })).movie.title).toBe(`Chinatown ${t}`);
    await catalog.updateMovie(id, ["tagline"], { ...fieldsStub(), tagline: "Forget it, Jake." });
    const fresh = await catalog.getMovie({ by: "id", id });
    expect([fresh.movie.title, fresh.movie.tagline]).toEqual([`Renamed ${t}`, "Forget it, Jake."]);
  });

  it("caches first pages of lists and the genre list, and drops them on any catalogue write", async () => {
    const catalog = createCatalogService({ orm: s.deps.orm, redis, log });
    const id = await insertMovie(s.deps.orm, { title: `Laura ${t}`, genreIds: [genre] });
    await catalog.cache.invalidateLists();
    const first = await catalog.listMovies({ genreIds: [genre], orderBy: "title" });
    expect(first.items.map((m) => m.title)).toContain(`Laura ${t}`);
    await sneakyRename(id, `Laura II ${t}`);
    expect((await catalog.listMovies({ genreIds: [genre], orderBy: "title" })).items.map((m) => m.title)).toContain(`Laura ${t}`);
    expect((await catalog.listGenres({})).items.map((g) => g.name)).toContain(`Noir ${t}`);
    await insertGenre(s.deps.orm, `Zz ${t}`);
    expect((await catalog.listGenres({})).items.map((g) => g.name)).not.toContain(`Zz ${t}`);
    const other = await catalog.createMovie({ ...fieldsStub(), genreIds: [] });
    expect((await catalog.listMovies({ genreIds: [genre], orderBy: "title" })).items.map((m) => m.title)).toContain(`Laura II ${t}`);
    expect((await catalog.listGenres({})).items.map((g) => g.name)).toContain(`Zz ${t}`);
    await catalog.deleteMovie(other.id);
  });

  it("never re-caches a row that a write replaced while it was being read", async () => {
    const cache = new CatalogCache({ redis, log });
    const id = await insertMovie(s.deps.orm, { title: `Old ${t}` });
    // The read loads the old row; a write commits and invalidates before the read stores it.
    const racing = await cache.movie<MovieDetails>(id, async () => {
      const old = await loadMovieDetails(s.deps.orm.em.fork(), { by: "id", id });
      await sneakyRename(id, `New ${t}`);
      await cache.invalidateMovies([id]);
      return old;
    });
    expect(racing.value?.movie.title).toBe(`Old ${t}`);
    const next = await cache.movie<MovieDetails>(id, () => loadMovieDetails(s.deps.orm.em.fork(), { by: "id", id }));
    expect([next.outcome, next.value?.movie.title]).toEqual(["miss", `New ${t}`]);
    const again = await cache.movie<MovieDetails>(id, () => loadMovieDetails(s.deps.orm.em.fork(), { by: "id", id }));
    expect(again.outcome).toBe("hit");
  });

  it("does not trust a stale TMDb/IMDb alias", async () => {
    const catalog = createCatalogService({ orm: s.deps.orm, redis, log });
    const imdb = `tt${String(Date.now()).slice(-9)}`;
    const movie = await catalog.createMovie({ ...fieldsStub(), imdbId: imdb });
    expect((await catalog.getMovie({ by: "imdb", imdbId: imdb })).movie.id).toBe(movie.id);
    await catalog.updateMovie(movie.id, ["imdb_id"], { ...fieldsStub(), imdbId: null });
    await expect(catalog.getMovie({ by: "imdb", imdbId: imdb })).rejects.toThrow(/not found/);
    await catalog.deleteMovie(movie.id);
  });
});

describe("Redis outage", () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let silentPort = 0;
  const clients: Redis[] = [];

  beforeAll(async () => {
    // Accepts connections and never answers: the worst kind of outage for a client.
    silent = createServer((sock) => sockets.push(sock));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    for (const sock of sockets) sock.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  for (const [name, url] of [["refused", () => "redis://127.0.0.1:1/0"], ["silent", () => `redis://127.0.0.1:${silentPort}/0`]] as const) {
    it(`reads and writes through PostgreSQL when Redis is ${name}`, async () => {
      const down = createRedis(url(), { keyPrefix: "catalog-outage:" });
      down.on("error", () => {});
      clients.push(down);
      const catalog = createCatalogService({ orm: s.deps.orm, redis: down, log, cache: { timeoutMs: 100 } });
      const id = await insertMovie(s.deps.orm, { title: `Vertigo ${t}`, genreIds: [genre], tmdbId: undefined });
      const started = Date.now();
      expect((await catalog.getMovie({ by: "id", id })).movie.title).toBe(`Vertigo ${t}`);
      expect((await catalog.listMovies({ genreIds: [genre], orderBy: "title" })).items.length).toBeGreaterThan(0);
      expect((await catalog.listGenres({})).items.length).toBeGreaterThan(0);
      const created = await catalog.createMovie({ ...fieldsStub(), genreIds: [genre] });
      await catalog.updateMovie(created.id, ["title"], { ...fieldsStub(), title: `Rear Window ${t}` });
      expect((await catalog.getMovie({ by: "id", id: created.id })).movie.title).toBe(`Rear Window ${t}`);
      await catalog.deleteMovie(created.id);
      // Each Redis call gives up after at most the timeout: the whole sequence stays quick.
      expect(Date.now() - started).toBeLessThan(5000);
    });
  }
});

let stubSeq = 0;
/** Complete, valid fields for service writes (only the masked ones matter for updates). */
function fieldsStub() {
  stubSeq += 1;
  return {
    tmdbId: 1_900_000_000 + Math.floor(Math.random() * 100_000_000) + stubSeq, imdbId: null, title: `Stub ${t} ${stubSeq}`, originalTitle: `Stub ${t}`,
    overview: "", tagline: "", releaseDate: null, runtime: null, budget: null, revenue: null, status: "Released" as const, tmdbRating: null,
    tmdbVoteCount: 0, imdbRating: null, posterPath: null, backdropPath: null, adult: false, video: false, originalLanguage: "en", genreIds: [] as string[],
  };
}
