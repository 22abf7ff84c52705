/** Loading an account with its profile and favourite genres: what GetMe, UpdateProfile, GetUser and Login return. */
import type { EntityManager } from "@mikro-orm/postgresql";
import { NotFoundError } from "../../platform/errors.ts";
import type { Logger } from "../../platform/logger.ts";
import type { DataCipher } from "./data-cipher.ts";
import { User, UserFavoriteGenre, UserProfile } from "./entities/index.ts";

export interface FavoriteGenreView {
  id: string;
  name: string;
  slug: string;
}

/** An account as its owner (or staff) may see it; the phone number decrypted, the password hash left out. */
export interface AccountView {
  user: User;
  profile: UserProfile;
  favoriteGenres: FavoriteGenreView[];
  phoneNumber: string;
}

/** Favourite genres of a profile, by name. */
export async function loadFavoriteGenres(em: EntityManager, profileId: string): Promise<FavoriteGenreView[]> {
  const rows = await em.find(UserFavoriteGenre, { profile: profileId }, { populate: ["genre"] });
  return rows
    .map((r) => {
      const g = r.genre.getEntity();
      return { id: g.id, name: g.name, slug: g.slug };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The account of `userId`, or NOT_FOUND. */
export async function loadAccount(em: EntityManager, userId: string, phones: DataCipher, log: Logger): Promise<AccountView> {
  const user = await em.findOne(User, userId);
  if (!user) throw new NotFoundError("user", userId);
  return viewOf(em, user, phones, log);
}

/** The view of an already loaded user. */
export async function viewOf(em: EntityManager, user: User, phones: DataCipher, log: Logger): Promise<AccountView> {
  const profile = await em.findOne(UserProfile, { user: user.id });
  if (!profile) {
    // Every writer creates the profile with the user (migration 0017 backfilled the rest); a row written by hand
    // without one still reads, with the profile's defaults, rather than failing the whole call or list.
    log.warn({ userId: user.id }, "user has no profile row; answering with the defaults");
    return { user, profile: em.create(UserProfile, { user: user.id }, { persist: false }), favoriteGenres: [], phoneNumber: decryptPhone(user, phones, log) };
  }
  return { user, profile, favoriteGenres: await loadFavoriteGenres(em, profile.id), phoneNumber: decryptPhone(user, phones, log) };
}

function decryptPhone(user: User, phones: DataCipher, log: Logger): string {
  if (!user.phoneNumber) return "";
  try {
    return phones.decrypt(user.phoneNumber);
  } catch (e) {
    // A retired key or a tampered value: show no number rather than fail the whole call; operators see why.
    log.warn({ userId: user.id, reason: (e as Error).message }, "phone number could not be decrypted");
    return "";
  }
}
