/**
 * What the RPC layer tells the outside about served lists and their outcomes: the one place online evaluation hooks
 * into serving (impressions, clicks, conversions). Implemented by the evaluation module and wired by the server; the
 * recommendation module itself never depends on it. Hooks must not slow the request: `served` only buffers, and the
 * outcome hooks are awaited after the user's own write has committed, with their errors swallowed.
 */
export interface ServedListInfo {
  surface: "recommendations" | "similar" | "trending";
  userId: string | null;
  algorithm: string;
  movieIds: string[];
}

export interface ServingHooks {
  served?(list: ServedListInfo): void;
  clicked?(userId: string, recommendationId: string): Promise<void>;
  interacted?(userId: string, movieId: string, type: string, rating: number | null): Promise<void>;
}
