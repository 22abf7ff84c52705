/** Overview: active users and interactions per day, top movies, per-method latency and errors, queue depths. */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TopMoviesMetric } from "../../../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { api, day, describeError } from "../api.ts";
import { chart } from "../charts.ts";
import { errorBox, h, panel, table } from "../dom.ts";

/** Queue depths from the Prometheus text of GET /metrics (the API offers no RPC for them). */
async function queueDepths(): Promise<{ queue: string; state: string; n: number }[]> {
  const text = await (await fetch("/metrics")).text();
  const out: { queue: string; state: string; n: number }[] = [];
  for (const line of text.split("\n")) {
    const m = /^movierec_queue_jobs\{([^}]*)\}\s+([\d.e+-]+)/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    out.push({ queue: labels.queue ?? "?", state: labels.state ?? "?", n: Number(m[2]) });
  }
  return out;
}

export async function overviewPage(): Promise<HTMLElement> {
  const [start, end] = [day(13), day(0)];
  const root = h("div", { "data-testid": "page-overview" });
  const section = async (title: string, build: () => Promise<HTMLElement>) => {
    try {
      root.append(panel(title, await build()));
    } catch (e) {
      root.append(panel(title, errorBox(describeError(e))));
    }
  };
  await section("Active users and interactions per day", async () => {
    const { points } = await api.analytics.getActiveUsers({ startDate: start, endDate: end });
    return chart("line", points.map((p) => p.date), [
      { label: "daily active users", data: points.map((p) => p.dailyActiveUsers) },
      { label: "weekly active users", data: points.map((p) => p.weeklyActiveUsers) },
      { label: "interactions", data: points.map((p) => p.interactionCount) },
    ], "chart-active-users");
  });
  await section("Top movies (views, last 14 days)", async () => {
    const { movies } = await api.analytics.getTopMovies({ startDate: start, endDate: end, by: TopMoviesMetric.VIEWS, limit: 10 });
    return table(["movie", "views", "likes", "ratings", "avg rating", "CTR"], movies.map((m) => [m.title, m.viewCount, m.likeCount, m.ratingCount, m.avgRating?.toFixed(2) ?? "–", (m.clickThroughRate * 100).toFixed(1) + "%"]), "top-movies");
  });
  await section("RPC methods (last hour)", async () => {
    const now = new Date();
    const { methods } = await api.analytics.getPerformanceSummary({ startTime: timestampFromDate(new Date(now.getTime() - 3_600_000)), endTime: timestampFromDate(now) });
    const top = methods.slice(0, 12);
    const perSecond = (n: number) => (n / 3600).toFixed(3);
    return h(
      "div",
      {},
      chart("bar", top.map((m) => m.method.split("/").pop() ?? m.method), [
        { label: "p50 ms", data: top.map((m) => m.p50Ms) },
        { label: "p95 ms", data: top.map((m) => m.p95Ms) },
        { label: "p99 ms", data: top.map((m) => m.p99Ms) },
      ], "chart-latency"),
      table(["method", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "error rate"], methods.map((m) => [m.method, m.requestCount, perSecond(m.requestCount), m.p50Ms.toFixed(1), m.p95Ms.toFixed(1), m.p99Ms.toFixed(1), (m.errorRate * 100).toFixed(2) + "%"]), "rpc-methods"),
    );
  });
  await section("Queues", async () => {
    const depths = await queueDepths();
    return table(["queue", "state", "jobs"], depths.map((d) => [d.queue, d.state, d.n]), "queues");
  });
  return root;
}
