/** `popularity_metrics`: per movie and day, aggregated counts for trending; one row per (movie, date). */
import { defineEntity, p } from "@mikro-orm/core";
import { Movie } from "../../catalog/entities/index.ts";

export const PopularityMetricSchema = defineEntity({
  name: "PopularityMetric",
  tableName: "popularity_metrics",
  uniques: [{ name: "unique_movie_date", properties: ["movie", "date"] }],
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    movie: () => p.manyToOne(Movie).ref().deleteRule("cascade"),
    /** UTC day, `YYYY-MM-DD`. */
    date: p.date(),
    viewCount: p.integer().default(0),
    likeCount: p.integer().default(0),
    ratingCount: p.integer().default(0),
    /** Mean 1–5 star rating of the day (`numeric(3,2)`). */
    avgRating: p.decimal("number").precision(3).scale(2).nullable(),
    /** Times the movie was recommended that day. */
    recommendationCount: p.integer().default(0),
    /** Clicks / recommendations, in [0, 1] (`numeric(5,4)`). */
    clickThroughRate: p.decimal("number").precision(5).scale(4).default(0),
  },
});

export class PopularityMetric extends PopularityMetricSchema.class {}
PopularityMetricSchema.setClass(PopularityMetric);
