/** User entities: accounts, profiles and favourite genres. */
import { UserFavoriteGenreSchema } from "./user-favorite-genre.entity.ts";
import { UserProfileSchema } from "./user-profile.entity.ts";
import { UserSchema } from "./user.entity.ts";

export { UserFavoriteGenre, UserFavoriteGenreSchema } from "./user-favorite-genre.entity.ts";
export { UserProfile, UserProfileSchema } from "./user-profile.entity.ts";
export { User, UserSchema } from "./user.entity.ts";

/** The user service's entity schemas, for the ORM's `entities` option. */
export const userEntities = [UserSchema, UserProfileSchema, UserFavoriteGenreSchema];
