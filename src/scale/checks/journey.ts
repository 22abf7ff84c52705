/**
 * The user journey, every step on the other API process than the one before: register, sign in, read the
 * catalogue, like three movies, list them back (read-your-writes across processes), get recommendations, similar
 * and trending movies; then sign out on one process and see the session refused by the other (each process caches
 * session checks for SESSION_CACHE_TTL_MS, 1 s by default: the bound on how long a revoked session lives elsewhere).
 */
import { randomBytes } from "node:crypto";
import { InteractionType } from "../../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { waitUntil } from "../../platform/wait-until.ts";
import { as, codeOf, type Api } from "../api.ts";
import { check, msSince } from "../report.ts";

export interface JourneyUser {
  userId: string;
  username: string;
  password: string;
  token: string;
}

/** Registers a user on `a` and signs in on `b`; the session works on `a`. */
export async function newUser(a: Api, b: Api, tag: string): Promise<JourneyUser> {
  const username = `${tag}_${randomBytes(4).toString("hex")}`;
  const password = "correct-horse-battery";
  await a.user.register({ username, email: `${username}@example.test`, password });
  const { accessToken, user } = await b.user.login({ login: username, password });
  const me = await a.user.getMe({}, as(accessToken));
  check(me.user?.username === username, `GetMe on ${a.name} after Login on ${b.name}: expected ${username}, got ${me.user?.username ?? "nothing"}`);
  return { userId: user!.id, username, password, token: accessToken };
}

/** The catalogue reads, likes, lists and recommendations of one journey, alternating `apis`; returns the liked ids. */
export async function browseAndLike(apis: readonly [Api, Api], u: JourneyUser, likes = 3): Promise<string[]> {
  const [a, b] = apis;
  const { genres } = await b.catalog.listGenres({ pageSize: 100 });
  check(genres.length > 0, `ListGenres on ${b.name}: no genres`);
  const { movies } = await a.catalog.listMovies({ pageSize: 20, genreIds: [genres[0]!.id] });
  check(movies.length >= likes, `ListMovies on ${a.name}: ${movies.length} movies of genre ${genres[0]!.name}, need ${likes}`);
  const liked = movies.slice(0, likes).map((m) => m.id);
  for (const [k, movieId] of liked.entries()) await apis[k % 2]!.recommendation.recordInteraction({ movieId, type: InteractionType.LIKE }, as(u.token));
  const { interactions } = await b.recommendation.listInteractions({ pageSize: 50 }, as(u.token));
  const seen = new Set(interactions.map((i) => i.movieId));
  const missing = liked.filter((id) => !seen.has(id));
  check(missing.length === 0, `ListInteractions on ${b.name} right after the likes: movies ${missing.join(", ")} missing (read-your-writes across processes)`);
  const recs = await a.recommendation.getRecommendations({ limit: 10 }, as(u.token));
  check(recs.recommendations.length > 0, `GetRecommendations on ${a.name}: empty list`);
  const likedBack = recs.recommendations.filter((r) => liked.includes(r.movie?.id ?? ""));
  check(likedBack.length === 0, `GetRecommendations on ${a.name} recommends movies the user just liked: ${likedBack.map((r) => r.movie?.id).join(", ")}`);
  await b.recommendation.getSimilarMovies({ movieId: liked[0]!, limit: 5 });
  const trending = await a.recommendation.getTrendingMovies({ limit: 5 });
  check(trending.movies.length > 0, `GetTrendingMovies on ${a.name}: empty`);
  return liked;
}

/** Signs out on `b`; resolves with how long until `a` refuses the session (UNAUTHENTICATED). */
export async function logoutSeenElsewhere(a: Api, b: Api, u: JourneyUser): Promise<number> {
  await a.user.getMe({}, as(u.token)); // a has checked (and cached) the session
  await b.user.logout({}, as(u.token));
  const t0 = performance.now();
  await waitUntil(`GetMe on ${a.name} refused after Logout on ${b.name}`, async () => ((await codeOf(a.user.getMe({}, as(u.token)))) === "Unauthenticated" ? true : undefined), 10_000, 50);
  return msSince(t0);
}

/** Both API processes answer /healthz and serve their own /metrics. */
export async function healthAndMetrics(apis: readonly Api[]): Promise<void> {
  for (const api of apis) {
    // Health is probed every HEALTH_INTERVAL_MS: a process just started may not have its first probe yet.
    let last = "";
    const healthy = await waitUntil(`${api.name} /healthz`, async () => {
      const res = await fetch(`${api.baseUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
      last = `HTTP ${res.status} ${(await res.text()).slice(0, 200)}`;
      return res.status === 200 ? true : undefined;
    }, 30_000, 200).catch(() => false);
    check(healthy, `${api.name} /healthz: ${last}`);
    const metrics = await (await fetch(`${api.baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    check(/^movierec_\w+/m.test(metrics), `${api.name} /metrics: no movierec metrics`);
  }
}
