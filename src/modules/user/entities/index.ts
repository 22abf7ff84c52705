/** User entities: accounts, profiles, favourite genres, and login sessions with their refresh tokens. */
import { UserFavoriteGenreSchema } from "./user-favorite-genre.entity.ts";
import { UserProfileSchema } from "./user-profile.entity.ts";
import { UserRefreshTokenSchema } from "./user-refresh-token.entity.ts";
import { UserSessionSchema } from "./user-session.entity.ts";
import { UserSchema } from "./user.entity.ts";

export { UserFavoriteGenre, UserFavoriteGenreSchema } from "./user-favorite-genre.entity.ts";
export { UserProfile, UserProfileSchema } from "./user-profile.entity.ts";
export { UserRefreshToken, UserRefreshTokenSchema } from "./user-refresh-token.entity.ts";
export { SESSION_REVOKE_REASONS, UserSession, UserSessionSchema, type SessionRevokeReason } from "./user-session.entity.ts";
export { User, UserSchema } from "./user.entity.ts";

/** The user service's entity schemas, for the ORM's `entities` option. */
export const userEntities = [UserSchema, UserProfileSchema, UserFavoriteGenreSchema, UserSessionSchema, UserRefreshTokenSchema];
