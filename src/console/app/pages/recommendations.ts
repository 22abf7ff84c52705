/**
 * Recommendations: the served model, training with progress, CTR per algorithm over time, and a user lookup whose
 * rows open that user's history next to their recommendations and reasons (user-detail.ts).
 */
import { Algorithm, TrainingState } from "../../../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { api, day, describeError } from "../api.ts";
import { chart } from "../charts.ts";
import { errorBox, h, panel, render, table } from "../dom.ts";
import { userDetail } from "./user-detail.ts";

const algorithmName = (a: Algorithm) => Algorithm[a]?.toLowerCase() ?? String(a);

async function modelPanel(): Promise<HTMLElement> {
  const body = h("div", { "data-testid": "model-status" });
  const refresh = async () => {
    try {
      const { status } = await api.recommendation.getModelStatus({});
      const s = status!;
      render(
        body,
        table(["field", "value"], [
          ["version", s.modelVersion || "no model yet"],
          ["trained at", s.trainedAt ? new Date(Number(s.trainedAt.seconds) * 1000).toISOString() : "–"],
          ["users / movies / interactions", `${s.userCount} / ${s.movieCount} / ${s.interactionCount}`],
          ["training", TrainingState[s.trainingState] ?? String(s.trainingState)],
          ["last error", s.lastError || "–"],
          ...Object.entries(s.evaluation).map(([k, v]) => [`evaluation: ${k}`, v.toFixed(4)]),
        ]),
      );
      return s.trainingState;
    } catch (e) {
      render(body, errorBox(describeError(e)));
      return undefined;
    }
  };
  await refresh();
  const progress = h("span", { "data-testid": "training-progress" });
  const button = h("button", {
    onclick: async () => {
      try {
        const res = await api.recommendation.startTraining({ requestId: `console-${Date.now()}` });
        progress.textContent = `job ${res.jobId} ${res.enqueued ? "queued" : "already running"}`;
        // Poll until the job leaves the queue, showing the state as it goes.
        for (let i = 0; i < 600; i++) {
          await new Promise((r) => setTimeout(r, 1000));
          const state = await refresh();
          progress.textContent = `job ${res.jobId}: ${state === undefined ? "?" : TrainingState[state]}`;
          if (state !== TrainingState.QUEUED && state !== TrainingState.RUNNING) break;
        }
      } catch (e) {
        progress.replaceChildren(errorBox(describeError(e)));
      }
    },
  }, "Start training");
  return panel("Model", body, h("p", {}, button, " ", progress));
}

async function ctrPanel(): Promise<HTMLElement> {
  try {
    const { points } = await api.analytics.getRecommendationCtr({ startDate: day(13), endDate: day(0) });
    const days = [...new Set(points.map((p) => p.date))].sort();
    const algorithms = [...new Set(points.map((p) => p.algorithm))];
    const series = algorithms.map((a) => ({
      label: algorithmName(a),
      data: days.map((d) => points.find((p) => p.date === d && p.algorithm === a)?.ctr ?? 0),
    }));
    return panel("Click-through rate per algorithm", chart("line", days, series, "chart-ctr"), table(["day", "algorithm", "impressions", "clicks", "CTR"], points.map((p) => [p.date, algorithmName(p.algorithm), p.impressions, p.clicks, (p.ctr * 100).toFixed(2) + "%"])));
  } catch (e) {
    return panel("Click-through rate per algorithm", errorBox(describeError(e)));
  }
}

function userLookup(): HTMLElement {
  const out = h("div", { "data-testid": "user-lookup" });
  const detail = h("div", {});
  const input = h("input", { placeholder: "username, email or name", name: "user-query" });
  const search = async (pageToken = "") => {
    try {
      const res = await api.user.listUsers({ query: input.value, pageSize: 20, pageToken });
      render(
        out,
        table(["id", "username", "email", "staff", "active", "joined", ""], res.users.map((u) => [
          u.id, u.username, u.email, u.isStaff ? "yes" : "", u.isActive ? "yes" : "no",
          u.dateJoined ? new Date(Number(u.dateJoined.seconds) * 1000).toISOString().slice(0, 10) : "",
          h("button", { "data-user-id": u.id, onclick: () => render(detail, userDetail(u.id, u.username)) }, "History and recommendations"),
        ]), "user-table"),
        res.nextPageToken ? h("button", { onclick: () => search(res.nextPageToken) }, "Next page") : null,
      );
    } catch (e) {
      render(out, errorBox(describeError(e)));
    }
  };
  return panel("Users", h("form", { onsubmit: (ev: Event) => (ev.preventDefault(), search()) }, input, h("button", { type: "submit" }, "Find")), out, detail);
}

export async function recommendationsPage(): Promise<HTMLElement> {
  return h("div", { "data-testid": "page-recommendations" }, await modelPanel(), await ctrPanel(), userLookup());
}
