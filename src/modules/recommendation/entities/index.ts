/** Recommendation entities: interactions (training data), scored lists, the recommendations clicks and feedback refer to, and the feedback. */
import { RecommendationFeedbackSchema } from "./recommendation-feedback.entity.ts";
import { UserMovieInteractionSchema } from "./user-movie-interaction.entity.ts";
import { UserRecommendationSchema } from "./user-recommendation.entity.ts";
import { RescoreRequestSchema } from "./rescore-request.entity.ts";
import { UserRecommendationListSchema } from "./user-recommendation-list.entity.ts";

export {
  FEEDBACK_TYPES,
  type FeedbackType,
  RecommendationFeedback,
  RecommendationFeedbackSchema,
} from "./recommendation-feedback.entity.ts";
export {
  INTERACTION_SOURCES,
  INTERACTION_TYPES,
  type InteractionSource,
  type InteractionType,
  UserMovieInteraction,
  UserMovieInteractionSchema,
} from "./user-movie-interaction.entity.ts";
export { UserRecommendation, UserRecommendationSchema } from "./user-recommendation.entity.ts";
export { RescoreRequest, RescoreRequestSchema } from "./rescore-request.entity.ts";
export { UserRecommendationList, UserRecommendationListSchema } from "./user-recommendation-list.entity.ts";

/** The recommendation service's entity schemas, for the ORM's `entities` option. */
export const recommendationEntities = [UserMovieInteractionSchema, UserRecommendationSchema, RecommendationFeedbackSchema, RescoreRequestSchema, UserRecommendationListSchema];
