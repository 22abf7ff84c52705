/** Catalogue: search (the users' RPC), a movie with credits, similar movies and its popularity, TMDb imports. */
import { ImportJobState, ImportKind } from "../../../../gen/movierec/catalog/v1/catalog_pb.js";
import { api, day, describeError } from "../api.ts";
import { chart } from "../charts.ts";
import { errorBox, h, panel, render, table } from "../dom.ts";

async function moviePanel(movieId: string, into: HTMLElement): Promise<void> {
  try {
    const [movie, similar, popularity] = await Promise.all([
      api.catalog.getMovie({ lookup: { case: "id", value: movieId } }),
      api.recommendation.getSimilarMovies({ movieId, limit: 10 }).catch(() => ({ movies: [] })),
      api.analytics.getPopularity({ movieId, startDate: day(29), endDate: day(0) }),
    ]);
    const m = movie.movie!;
    render(
      into,
      h("h3", { "data-testid": "movie-title" }, `${m.title} (${m.releaseDate.slice(0, 4) || "?"})`),
      h("p", {}, m.overview),
      table(["cast", "character"], movie.cast.slice(0, 10).map((c) => [c.name, c.character]), "movie-cast"),
      table(["crew", "job"], movie.crew.slice(0, 10).map((c) => [c.name, c.job])),
      h("h4", {}, "Similar movies"),
      table(["movie", "score", "why"], similar.movies.map((s) => [s.movie?.title ?? "?", s.score.toFixed(3), s.reason]), "similar-movies"),
      h("h4", {}, "Popularity, last 30 days"),
      chart("line", popularity.points.map((p) => p.date), [
        { label: "views", data: popularity.points.map((p) => p.viewCount) },
        { label: "likes", data: popularity.points.map((p) => p.likeCount) },
        { label: "ratings", data: popularity.points.map((p) => p.ratingCount) },
      ], "chart-popularity"),
    );
  } catch (e) {
    render(into, errorBox(describeError(e)));
  }
}

function searchPanel(): HTMLElement {
  const results = h("div", { "data-testid": "search-results" });
  const detail = h("div", { "data-testid": "movie-detail" });
  const input = h("input", { name: "movie-query", placeholder: "title (typos forgiven)" });
  const search = async (pageToken = "") => {
    try {
      const res = await api.catalog.searchMovies({ query: input.value, pageSize: 10, pageToken });
      render(
        results,
        table(["title", "released", ""], res.movies.map((m) => [m.title, m.releaseDate, h("button", { onclick: () => moviePanel(m.id, detail), "data-movie-id": m.id }, "Open")]), "search-table"),
        res.nextPageToken ? h("button", { onclick: () => search(res.nextPageToken) }, "Next page") : null,
      );
    } catch (e) {
      render(results, errorBox(describeError(e)));
    }
  };
  return panel("Search", h("form", { onsubmit: (ev: Event) => (ev.preventDefault(), search()) }, input, h("button", { type: "submit" }, "Search")), results, detail);
}

function importPanel(): HTMLElement {
  const status = h("div", { "data-testid": "import-status" });
  const ids = h("input", { name: "tmdb-ids", placeholder: "TMDb ids, comma-separated" });
  const follow = async (jobId: string) => {
    for (let i = 0; i < 600; i++) {
      const { job } = await api.catalog.getImportJob({ jobId });
      const j = job!;
      render(status, table(["job", "state", "found", "imported", "updated", "skipped", "failed"], [[j.jobId, ImportJobState[j.state] ?? "?", j.found, j.imported, j.updated, j.skipped, j.failed]]), ...j.errors.map((e) => errorBox(e)));
      if (j.state !== ImportJobState.QUEUED && j.state !== ImportJobState.RUNNING) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  const start = async () => {
    try {
      const tmdbIds = ids.value.split(",").map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
      const { job } = await api.catalog.startTmdbImport({ kind: ImportKind.TMDB_IDS, tmdbIds, includeCredits: true, requestId: `console-${Date.now()}` });
      await follow(job!.jobId);
    } catch (e) {
      render(status, errorBox(describeError(e)));
    }
  };
  return panel("TMDb import", h("form", { onsubmit: (ev: Event) => (ev.preventDefault(), start()) }, ids, h("button", { type: "submit" }, "Import")), status);
}

export async function cataloguePage(): Promise<HTMLElement> {
  return h("div", { "data-testid": "page-catalogue" }, searchPanel(), importPanel());
}
