/**
 * The demo's newcomer journey, run live against the demo's own API over Connect JSON (the same calls as the
 * README's curl lines): register, sign in, pick three popular movies of one genre, like them, and read the
 * recommendations — personalised at once (ALGORITHM_HYBRID, "Because you liked …") because the worker trained on
 * the demo population at start and the first read after a like scores a new user on the spot.
 */
import { randomBytes } from "node:crypto";

export interface JourneyResult {
  username: string;
  liked: string[];
  algorithm: string;
  items: { title: string; reason: string }[];
  /** From sending GetRecommendations (right after the third like) to its answer. */
  millis: number;
}

/** One Connect unary call with JSON; throws with the server's code and message when it fails. */
export async function connectCall<T>(baseUrl: string, method: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(`${baseUrl}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const json = (await res.json()) as T & { code?: string; message?: string };
  if (!res.ok) throw new Error(`${method}: ${json.code ?? res.status} ${json.message ?? ""}`.trim());
  return json;
}

async function signIn(baseUrl: string, login: string, password: string): Promise<string> {
  return (await connectCall<{ accessToken: string }>(baseUrl, "movierec.user.v1.UserService/Login", { login, password })).accessToken;
}

/** Polls GetModelStatus (as staff) until a model is published; false after `timeoutMs`. */
export async function waitForModel(baseUrl: string, staff: { username: string; password: string }, timeoutMs: number): Promise<boolean> {
  const token = await signIn(baseUrl, staff.username, staff.password);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await connectCall<{ status?: { modelVersion?: string } }>(baseUrl, "movierec.recommendation.v1.RecommendationService/GetModelStatus", {}, token);
    if (r.status?.modelVersion) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

/** Registers a new user, likes the three most popular movies of `genre`, and reads their recommendations. */
export async function runNewcomerJourney(baseUrl: string, opts: { genre?: string; limit?: number; username?: string } = {}): Promise<JourneyResult> {
  const username = opts.username ?? `newcomer_${randomBytes(3).toString("hex")}`;
  const password = "correct-horse-battery";
  await connectCall(baseUrl, "movierec.user.v1.UserService/Register", { username, email: `${username}@example.com`, password });
  const token = await signIn(baseUrl, username, password);
  const { genres } = await connectCall<{ genres: { id: string; name: string }[] }>(baseUrl, "movierec.catalog.v1.CatalogService/ListGenres", { pageSize: 100 });
  const genre = genres.find((g) => g.name === (opts.genre ?? "Science Fiction")) ?? genres[0];
  if (!genre) throw new Error("the catalogue has no genres");
  const { movies } = await connectCall<{ movies: { id: string; title: string }[] }>(baseUrl, "movierec.catalog.v1.CatalogService/ListMovies", {
    pageSize: 3,
    genreIds: [genre.id],
    orderBy: "MOVIE_ORDER_BY_POPULARITY",
  });
  for (const m of movies) {
    await connectCall(baseUrl, "movierec.recommendation.v1.RecommendationService/RecordInteraction", { movieId: m.id, type: "INTERACTION_TYPE_LIKE" }, token);
  }
  const started = performance.now();
  const recs = await connectCall<{ algorithm: string; recommendations: { movie: { title: string }; reason: string }[] }>(
    baseUrl,
    "movierec.recommendation.v1.RecommendationService/GetRecommendations",
    { limit: opts.limit ?? 5 },
    token,
  );
  const millis = performance.now() - started;
  return { username, liked: movies.map((m) => m.title), algorithm: recs.algorithm, items: recs.recommendations.map((r) => ({ title: r.movie.title, reason: r.reason })), millis };
}

/** The journey as the demo prints it. */
export function formatJourney(j: JourneyResult): string {
  const lines = [
    ` A newcomer's first minute (run live just now as ${j.username}):`,
    `   liked: ${j.liked.join(" · ")}`,
    `   GetRecommendations → ${j.algorithm}, answered in ${Math.round(j.millis)} ms:`,
    ...j.items.map((i, k) => `     ${k + 1}. ${i.title} — ${i.reason}`),
  ];
  return lines.join("\n");
}
