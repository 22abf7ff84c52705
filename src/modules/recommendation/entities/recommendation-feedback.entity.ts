/** `recommendation_feedback`: what a user said about a recommendation; deleted with it. */
import { defineEntity, p } from "@mikro-orm/core";
import { User } from "../../user/entities/index.ts";
import { UserRecommendation } from "./user-recommendation.entity.ts";

export const FEEDBACK_TYPES = ["positive", "negative", "not_interested", "already_seen"] as const;
export type FeedbackType = (typeof FEEDBACK_TYPES)[number];

export const RecommendationFeedbackSchema = defineEntity({
  name: "RecommendationFeedback",
  tableName: "recommendation_feedback",
  properties: {
    id: p.bigint("string").primary().generated("by default as identity"),
    user: () => p.manyToOne(User).ref().deleteRule("cascade"),
    recommendation: () => p.manyToOne(UserRecommendation).ref().deleteRule("cascade"),
    feedbackType: p.enum(FEEDBACK_TYPES).columnType("varchar(20)"),
    comment: p.text().default(""),
    timestamp: p.datetime().defaultRaw("now()").onCreate(() => new Date()),
  },
});

export class RecommendationFeedback extends RecommendationFeedbackSchema.class {}
RecommendationFeedbackSchema.setClass(RecommendationFeedback);
