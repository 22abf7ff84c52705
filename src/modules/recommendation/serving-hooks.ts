/**
 * What the RPC layer tells the outside about served lists and their outcomes: the one place online evaluation hooks
 * into serving (impressions, clicks, conversions). Implemented by the evaluation module and wired by the server; the
 * recommendation module itself never depends on it. Hooks must not slow the request: `served` only buffers, and the
 * outcome hooks are awaited after the user's own write has committed, with their errors swallowed.
 */
import type { HybridParams } from "./algorithms/hybrid.ts";
import type { AlgorithmName } from "./algorithms/recommender.ts";

export interface ServedListInfo {
  surface: "recommendations" | "similar" | "trending" | "digest" | "alert";
  userId: string | null;
  algorithm: string;
  movieIds: string[];
  /** The experiment and variant the list was served under (see `assign`). */
  experimentId?: string | null;
  variant?: string | null;
}

/** What a user is served when their client names no algorithm: an experiment's variant, or the surface's default. */
export interface Assignment {
  algorithm: AlgorithmName;
  /** A hybrid blend of the variant's own (scored on read). */
  hybrid?: Partial<HybridParams>;
  experimentId?: string;
  variant?: string;
}

export interface ServingHooks {
  /** The caller's assignment when the request names no algorithm; undefined serves the hybrid. */
  assign?(userId: string, surface: "recommendations"): Promise<Assignment | undefined>;
  served?(list: ServedListInfo): void;
  /** After a recorded click; `recommendationId` is the `user_recommendations` row the click went to. */
  clicked?(userId: string, recommendationId: string): Promise<void>;
  interacted?(userId: string, movieId: string, type: string, rating: number | null): Promise<void>;
}
