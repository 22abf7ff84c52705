/**
 * A real HTTP server that answers like TMDb API v3 from the recorded responses in tests/fixtures/tmdb-api,
 * by path (`/3/movie/550` → movie-details.json, `/3/movie/550/credits` → movie-credits.json, …), with the
 * recorded error bodies for 401 and 404. Switches inject failures: the next N requests answer 429 with
 * Retry-After, or 5xx; every key is invalid; or chosen paths are missing. Every request is logged with its
 * time so tests can check retries and the rate limit. Only what was recorded is served: any other movie,
 * person or list page is a 404, as TMDb would answer for an unknown id.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

/** The recorded responses kept in the repository (MIT, see tests/fixtures/README.md). */
export const TMDB_API_DIR = path.join(import.meta.dirname, "../fixtures/tmdb-api");

/** Recorded responses by path (without /3). The list recordings are page 1 only. */
const ROUTES: Record<string, string> = {
  "/genre/movie/list": "genre-movie-list.json",
  "/movie/popular?page=1": "movie-popular.json",
  "/movie/top_rated?page=1": "movie-top-rated.json",
  "/movie/now_playing?page=1": "movie-now-playing.json",
  "/movie/upcoming?page=1": "movie-upcoming.json",
  "/movie/550": "movie-details.json",
  "/movie/550/credits": "movie-credits.json",
  "/movie/550/keywords": "movie-keywords.json",
  "/movie/550/external_ids": "movie-external-ids.json",
  "/person/287": "person-details.json",
};

export interface ReplayRequest {
  readonly path: string;
  readonly at: number;
  readonly status: number;
  readonly auth: string | undefined;
}

export interface Failure {
  readonly status: number;
  /** Retry-After header value (429). */
  readonly retryAfter?: string;
  /** Only requests whose path starts with this fail. */
  readonly pathPrefix?: string;
}

export interface TmdbReplayServer {
  /** API root to configure as TMDB_BASE_URL (ends in /3). */
  readonly baseUrl: string;
  readonly requests: ReplayRequest[];
  /** The key (api_key or bearer token) the server accepts; anything else is 401. */
  readonly validKey: string;
  /** The next `times` matching requests answer with `failure`. */
  failNext(failure: Failure, times?: number): void;
  /** Every request answers 401 invalid key while true. */
  invalidKey: boolean;
  /** Paths (without /3) answered 404 although recorded. */
  readonly missing: Set<string>;
  /** Clears pending failures, missing paths and the invalid-key switch. */
  reset(): void;
  close(): Promise<void>;
}

/** Every recorded body, read up front: missing data fails the start, not a request half-way through a test. */
function loadBodies(): Map<string, Buffer> {
  const files = [...Object.values(ROUTES), "invalid-api-key.json", "resource-not-found.json"];
  return new Map(files.map((f) => [f, readFileSync(path.join(TMDB_API_DIR, f))]));
}

/** Starts the replay server on 127.0.0.1 and a random port. */
export async function startTmdbReplayServer(opts: { validKey?: string } = {}): Promise<TmdbReplayServer> {
  const bodies = loadBodies();
  const body = (file: string) => bodies.get(file)!;
  const validKey = opts.validKey ?? "replay-key";
  const failures: Array<{ failure: Failure; left: number }> = [];
  const requests: ReplayRequest[] = [];
  const state = { invalidKey: false };
  const missing = new Set<string>();

  const send = (res: ServerResponse, status: number, payload: Buffer | string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json;charset=utf-8", ...headers });
    res.end(payload);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://replay");
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const key = bearer ?? url.searchParams.get("api_key") ?? undefined;
    const apiPath = url.pathname.replace(/^\/3(?=\/)/, "");
    const page = url.searchParams.get("page");
    const routeKey = page !== null && /^\/movie\/(popular|top_rated|now_playing|upcoming)$/.test(apiPath) ? `${apiPath}?page=${page}` : apiPath;
    const log = (status: number) => requests.push({ path: routeKey, at: performance.now(), status, auth: key });

    const f = failures.find((x) => x.left > 0 && (!x.failure.pathPrefix || apiPath.startsWith(x.failure.pathPrefix)));
    if (f) {
      f.left--;
      log(f.failure.status);
      const headers: Record<string, string> = f.failure.retryAfter !== undefined ? { "retry-after": f.failure.retryAfter } : {};
      const payload =
        f.failure.status === 429
          ? JSON.stringify({ status_code: 25, status_message: "Your request count (#) is over the allowed limit of (40)." })
          : JSON.stringify({ status_code: 11, status_message: "Internal error: Something went wrong, contact TMDb." });
      return send(res, f.failure.status, payload, headers);
    }
    if (!url.pathname.startsWith("/3/") || state.invalidKey || key !== validKey) {
      log(401);
      return send(res, 401, body("invalid-api-key.json"));
    }
    const file = ROUTES[routeKey];
    if (!file || missing.has(routeKey)) {
      log(404);
      return send(res, 404, body("resource-not-found.json"));
    }
    log(200);
    send(res, 200, body(file));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/3`,
    requests,
    validKey,
    failNext(failure, times = 1) {
      failures.push({ failure, left: times });
    },
    get invalidKey() {
      return state.invalidKey;
    },
    set invalidKey(v: boolean) {
      state.invalidKey = v;
    },
    missing,
    reset() {
      failures.length = 0;
      missing.clear();
      state.invalidKey = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
