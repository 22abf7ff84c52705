/**
 * A small TMDb API v3 client over `fetch`: API key or bearer token, a shared rate limit, retries with
 * exponential backoff and full jitter on 429 (honouring Retry-After), 5xx and network errors, and typed
 * errors for what retrying cannot fix (401 invalid key, 404 unknown resource, other 4xx).
 */
import type { RateLimiter } from "./tmdb-rate-limit.ts";
import type { TmdbCredits, TmdbGenreList, TmdbKeywords, TmdbMovie, TmdbMoviePage, TmdbPerson } from "./tmdb-types.ts";

/** 401: the key or token is wrong; no retry can help. */
export class TmdbAuthError extends Error {}
/** 404: no such movie/person/page. */
export class TmdbNotFoundError extends Error {}
/** Any other refusal, or a transient failure that outlived every retry. */
export class TmdbRequestError extends Error {
  readonly status: number | undefined;
  readonly transient: boolean;
  constructor(message: string, status: number | undefined, transient: boolean) {
    super(message);
    this.status = status;
    this.transient = transient;
  }
}

export interface TmdbClientOptions {
  /** API v3 root, e.g. `https://api.themoviedb.org/3`. */
  readonly baseUrl: string;
  readonly apiKey?: string;
  /** Preferred over `apiKey` when both are given. */
  readonly bearerToken?: string;
  readonly limiter: RateLimiter;
  /** Tries per request, the first included (default 5). */
  readonly maxAttempts?: number;
  /** First backoff step (default 500 ms), doubled per retry, capped by `maxDelayMs` (default 30 s). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Per-request timeout (default 15 s). */
  readonly timeoutMs?: number;
  /** Told about each retry (for logs). */
  readonly onRetry?: (info: { path: string; attempt: number; delayMs: number; reason: string }) => void;
}

/** The movie lists TMDb pages through. */
export type TmdbMovieList = "popular" | "top_rated" | "now_playing" | "upcoming";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Seconds or an HTTP date, as Retry-After allows; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

async function statusMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { status_message?: unknown; errors?: unknown };
    if (typeof body.status_message === "string") return body.status_message;
    if (Array.isArray(body.errors)) return body.errors.join("; ");
  } catch {
    // not JSON: the status line says enough
  }
  return res.statusText || `HTTP ${res.status}`;
}

export class TmdbClient {
  readonly #o: Required<Omit<TmdbClientOptions, "apiKey" | "bearerToken" | "onRetry">> & Pick<TmdbClientOptions, "apiKey" | "bearerToken" | "onRetry">;

  constructor(opts: TmdbClientOptions) {
    if (!opts.apiKey && !opts.bearerToken) throw new Error("TMDb needs an API key or a bearer token");
    this.#o = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 15_000, ...opts, baseUrl: opts.baseUrl.replace(/\/+$/, "") };
  }

  /** GETs `path` (e.g. `/movie/550`) with `query`; see the class comment for errors and retries. */
  async get<T>(path: string, query: Record<string, string | number> = {}): Promise<T> {
    const url = new URL(this.#o.baseUrl + path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#o.bearerToken) headers.authorization = `Bearer ${this.#o.bearerToken}`;
    else url.searchParams.set("api_key", this.#o.apiKey!);

    for (let attempt = 1; ; attempt++) {
      await this.#o.limiter.acquire();
      let res: Response | undefined;
      let reason: string;
      try {
        res = await fetch(url, { headers, signal: AbortSignal.timeout(this.#o.timeoutMs) });
      } catch (e) {
        reason = `network error: ${(e as Error).message}`;
      }
      let delay = Math.random() * Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** (attempt - 1));
      if (res) {
        if (res.ok) return (await res.json()) as T;
        const message = await statusMessage(res);
        if (res.status === 401) throw new TmdbAuthError(`TMDb refused the credentials: ${message}`);
        if (res.status === 404) throw new TmdbNotFoundError(`${path}: ${message}`);
        if (res.status !== 429 && res.status < 500) throw new TmdbRequestError(`${path}: HTTP ${res.status}: ${message}`, res.status, false);
        reason = `HTTP ${res.status}: ${message}`;
        // TMDb says when to come back: wait that long (capped), not our own guess.
        const after = res.status === 429 ? retryAfterMs(res.headers.get("retry-after")) : undefined;
        if (after !== undefined) delay = Math.min(after, this.#o.maxDelayMs);
      }
      if (attempt >= this.#o.maxAttempts) {
        throw new TmdbRequestError(`${path}: gave up after ${attempt} attempts: ${reason!}`, res?.status, true);
      }
      this.#o.onRetry?.({ path, attempt, delayMs: Math.round(delay), reason: reason! });
      await sleep(delay);
    }
  }

  genres(): Promise<TmdbGenreList> {
    return this.get("/genre/movie/list", { language: "en-US" });
  }

  moviePage(list: TmdbMovieList, page: number): Promise<TmdbMoviePage> {
    return this.get(`/movie/${list}`, { language: "en-US", page });
  }

  movie(tmdbId: number): Promise<TmdbMovie> {
    return this.get(`/movie/${tmdbId}`, { language: "en-US" });
  }

  credits(tmdbId: number): Promise<TmdbCredits> {
    return this.get(`/movie/${tmdbId}/credits`, { language: "en-US" });
  }

  keywords(tmdbId: number): Promise<TmdbKeywords> {
    return this.get(`/movie/${tmdbId}/keywords`);
  }

  person(tmdbId: number): Promise<TmdbPerson> {
    return this.get(`/person/${tmdbId}`, { language: "en-US" });
  }
}
