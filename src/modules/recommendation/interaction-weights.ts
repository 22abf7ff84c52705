/**
 * How much each interaction says about taste, as a signed weight: the collaborative models train on the positive
 * part, and fold-in lets dislikes push similar movies down. A rating r counts r − 2.5 (a 1-star rating is negative).
 */
import type { InteractionType } from "./entities/index.ts";

export const INTERACTION_WEIGHTS: Readonly<Record<Exclude<InteractionType, "rating">, number>> = {
  view: 1,
  like: 3,
  dislike: -3,
  favorite: 4,
  watchlist: 2,
  share: 2,
};

/** The signed weight of one interaction. */
export function interactionWeight(type: InteractionType, rating: number | null): number {
  return type === "rating" ? (rating ?? 3) - 2.5 : INTERACTION_WEIGHTS[type];
}

/** The same mapping as a SQL expression over `interaction_type` and `rating` (for aggregation in PostgreSQL). */
export const WEIGHT_SQL = `case interaction_type ${Object.entries(INTERACTION_WEIGHTS)
  .map(([t, w]) => `when '${t}' then ${w}`)
  .join(" ")} when 'rating' then coalesce(rating, 3) - 2.5 else 0 end`;

/** Interaction types after which a movie is never recommended to that user again (a watchlisted movie still may be). */
export const SEEN_TYPES: readonly InteractionType[] = ["view", "like", "dislike", "favorite", "rating", "share"];
