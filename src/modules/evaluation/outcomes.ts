/**
 * Outcomes attributed to impressions: a click (RecordRecommendationClick, or a tracked email/push click naming a
 * movie) and a conversion (a view, like, rating ≥ 4, favourite or watchlist of the movie) count for the latest
 * impression of that movie shown to that user within the attribution window, once each. Last-touch attribution:
 * simple, and what the per-variant CTR needs (one impression, one outcome).
 */
import type pg from "pg";
import type { ConversionType } from "./entities/index.ts";

const CONVERTING: ReadonlySet<string> = new Set(["view", "like", "favorite", "watchlist"]);

/** The conversion an interaction stands for, or undefined (dislikes, shares and low ratings convert nothing). */
export function conversionOf(type: string, rating?: number | null): ConversionType | undefined {
  if (type === "rating") return (rating ?? 0) >= 4 ? "rating" : undefined;
  return CONVERTING.has(type) ? (type as ConversionType) : undefined;
}

/** Marks the click on the latest unclicked impression of `movieId` for `userId`; true when one was found. */
export async function attributeClick(pool: pg.Pool, userId: string, movieId: string, windowHours: number): Promise<boolean> {
  const res = await pool.query(
    `update recommendation_impressions set clicked_at = now()
      where id = (select id from recommendation_impressions
                   where user_id = $1 and movie_id = $2 and clicked_at is null and shown_at > now() - make_interval(hours => $3)
                   order by shown_at desc, id desc limit 1)`,
    [userId, movieId, windowHours],
  );
  return (res.rowCount ?? 0) > 0;
}

/** Marks the conversion on the latest unconverted impression; true when one was found. */
export async function attributeConversion(pool: pg.Pool, userId: string, movieId: string, type: ConversionType, windowHours: number): Promise<boolean> {
  const res = await pool.query(
    `update recommendation_impressions set converted_at = now(), conversion_type = $4
      where id = (select id from recommendation_impressions
                   where user_id = $1 and movie_id = $2 and converted_at is null and shown_at > now() - make_interval(hours => $3)
                   order by shown_at desc, id desc limit 1)`,
    [userId, movieId, windowHours, type],
  );
  return (res.rowCount ?? 0) > 0;
}

/** The movie of a user's recommendation row (what RecordRecommendationClick names). */
export async function movieOfRecommendation(pool: pg.Pool, userId: string, recommendationId: string): Promise<string | undefined> {
  const res = await pool.query<{ movie_id: string }>("select movie_id::text as movie_id from user_recommendations where id = $1 and user_id = $2", [recommendationId, userId]);
  return res.rows[0]?.movie_id;
}
