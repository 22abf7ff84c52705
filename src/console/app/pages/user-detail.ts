/**
 * One user as the recommender sees them: their interaction history (ListInteractions with user_id, paged with the
 * API's tokens) next to what they are recommended and why (GetRecommendations with user_id). Both are staff reads
 * of another user; the server refuses them to anyone else.
 */
import { Algorithm, InteractionType } from "../../../../gen/movierec/recommendation/v1/recommendation_pb.js";
import { api, describeError } from "../api.ts";
import { errorBox, h, render, table } from "../dom.ts";

const when = (t?: { seconds: bigint }) => (t ? new Date(Number(t.seconds) * 1000).toISOString().slice(0, 16).replace("T", " ") : "");
const typeName = (t: InteractionType) => InteractionType[t]?.toLowerCase() ?? String(t);

function history(userId: string): HTMLElement {
  const out = h("div", { "data-testid": "user-history" });
  const load = async (pageToken = "") => {
    try {
      const res = await api.recommendation.listInteractions({ userId, pageSize: 20, pageToken });
      render(
        out,
        table(["when", "movie", "interaction"], res.interactions.map((i) => [when(i.occurredAt), i.movie?.title ?? i.movieId, i.rating !== undefined ? `${typeName(i.type)} ${i.rating}★` : typeName(i.type)]), "history-table"),
        res.interactions.length === 0 ? h("p", {}, "no interactions") : null,
        res.nextPageToken ? h("button", { onclick: () => load(res.nextPageToken) }, "Older") : null,
      );
    } catch (e) {
      render(out, errorBox(describeError(e)));
    }
  };
  void load();
  return out;
}

function recommendations(userId: string): HTMLElement {
  const out = h("div", { "data-testid": "user-recommendations" });
  void (async () => {
    try {
      const res = await api.recommendation.getRecommendations({ userId, limit: 20 });
      render(
        out,
        h("p", {}, `algorithm: ${Algorithm[res.algorithm]?.toLowerCase() ?? res.algorithm}`),
        table(["#", "movie", "score", "reason"], res.recommendations.map((r, i) => [i + 1, r.movie?.title ?? "", r.score.toFixed(3), r.reason]), "recommendation-table"),
      );
    } catch (e) {
      render(out, errorBox(describeError(e)));
    }
  })();
  return out;
}

/** The history and recommendations of `userId`, side by side. */
export function userDetail(userId: string, username: string): HTMLElement {
  return h(
    "div",
    { class: "columns", "data-testid": "user-detail", "data-user-id": userId },
    h("div", {}, h("h3", {}, `${username}: history`), history(userId)),
    h("div", {}, h("h3", {}, `${username}: recommendations`), recommendations(userId)),
  );
}
