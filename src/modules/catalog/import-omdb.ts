/**
 * Optional OMDb enrichment: the IMDb rating of a movie by its IMDb id (`?i=tt…&apikey=…`). Best effort:
 * the import never fails because of OMDb; a refusal or outage is reported and the movie keeps the rating
 * it had. OMDb's free tier is 1,000 requests a day, so it is asked once per imported movie, no retries.
 */

export class OmdbError extends Error {}

export interface OmdbClientOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly timeoutMs?: number;
}

export class OmdbClient {
  readonly #o: Required<OmdbClientOptions>;

  constructor(opts: OmdbClientOptions) {
    this.#o = { timeoutMs: 10_000, ...opts };
  }

  /** The IMDb rating (0–10, one decimal), or null when OMDb has none ("N/A"); throws OmdbError otherwise. */
  async imdbRating(imdbId: string): Promise<number | null> {
    const url = new URL(this.#o.baseUrl);
    url.searchParams.set("i", imdbId);
    url.searchParams.set("apikey", this.#o.apiKey);
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.#o.timeoutMs) });
    } catch (e) {
      throw new OmdbError(`OMDb unreachable: ${(e as Error).message}`);
    }
    let body: { Response?: string; Error?: string; imdbRating?: string } = {};
    try {
      body = (await res.json()) as typeof body;
    } catch {
      // not JSON: the status says enough
    }
    if (!res.ok || body.Response === "False") {
      if (body.Error === "Incorrect IMDb ID." || body.Error === "Movie not found!") return null;
      throw new OmdbError(`OMDb refused ${imdbId}: ${body.Error ?? `HTTP ${res.status}`}`);
    }
    const rating = Number(body.imdbRating);
    return body.imdbRating && Number.isFinite(rating) && rating >= 0 && rating <= 10 ? Math.round(rating * 10) / 10 : null;
  }
}
