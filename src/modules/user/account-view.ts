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
    .sort(byName);
}

const byName = (a: FavoriteGenreView, b: FavoriteGenreView) => a.name.localeCompare(b.name);

const PROFILE_COLUMNS = ["id", "user_id", "bio", "avatar", "preferred_language", "timezone", "country", "created_at", "updated_at"] as const;

/**
 * The account of `userId`, or NOT_FOUND, in one statement: GetMe is a hot signed-in read, and the user, profile and
 * genres read one after the other held a pool connection for three round trips (bench:serving: 44 GetMe calls queued
 * for a connection at 64 in flight). The rows become managed entities through `em.map`, as `findOne` would make them.
 */
export async function loadAccount(em: EntityManager, userId: string, phones: DataCipher, log: Logger): Promise<AccountView> {
  const rows = await em.execute<Record<string, unknown>[]>(
    `select u.*, ${PROFILE_COLUMNS.map((c) => `p.${c} as "profile.${c}"`).join(", ")},
            (select coalesce(json_agg(json_build_object('id', g.id::text, 'name', g.name, 'slug', g.slug)), '[]'::json)
               from user_favorite_genres fg join genres g on g.id = fg.genre_id where fg.userprofile_id = p.id) as "profile.genres"
       from users u left join user_profiles p on p.user_id = u.id
      where u.id = ?::bigint`,
    [userId],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError("user", userId);
  const userRow: Record<string, unknown> = {};
  const profileRow: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k.startsWith("profile.")) profileRow[k.slice("profile.".length)] = v;
    else userRow[k] = v;
  }
  const user = em.map(User, userRow as never);
  if (profileRow.id === null) return viewOf(em, user, phones, log); // no profile row: the defaults, with a warning
  const favoriteGenres = (profileRow.genres as FavoriteGenreView[]).sort(byName);
  delete profileRow.genres;
  const profile = em.map(UserProfile, profileRow as never);
  return { user, profile, favoriteGenres, phoneNumber: decryptPhone(user, phones, log) };
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
