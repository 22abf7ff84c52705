/** Reading and changing profiles and favourite genres; staff look-ups of any account. Rules only, no protobuf. */
import { createHash } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { InvalidInputError } from "../../platform/errors.ts";
import { decodePageToken, encodePageToken, pageSize } from "../../platform/page-token.ts";
import type { Logger } from "../../platform/logger.ts";
import { Genre } from "../catalog/entities/index.ts";
import { type AccountView, type FavoriteGenreView, loadAccount, loadFavoriteGenres, viewOf } from "./account-view.ts";
import type { DataCipher } from "./data-cipher.ts";
import { User, UserFavoriteGenre, UserProfile } from "./entities/index.ts";
import { canonicalLanguage, checkAvatarUrl, checkCountry, checkDateOfBirth, checkPhone, checkTimezone } from "./field-rules.ts";

/** New values; only the fields named in `paths` (field-mask paths relative to User) are written. */
export interface ProfileUpdate {
  paths: readonly string[];
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  phoneNumber: string;
  profile: { bio: string; avatarUrl: string; preferredLanguage: string; timezone: string; country: string };
}

export interface ListUsersQuery {
  pageSize: number;
  pageToken: string;
  isActive: boolean | undefined;
  isPremium: boolean | undefined;
  query: string;
}

const PROFILE_FIELDS = ["bio", "avatar_url", "preferred_language", "timezone", "country"] as const;
const MAX_PAGE = 200;

export function createProfiles(deps: { orm: MikroORM; phones: DataCipher; log: Logger }) {
  const { phones, log } = deps;
  return {
    async getAccount(userId: string): Promise<AccountView> {
      return loadAccount(deps.orm.em.fork(), userId, phones, deps.log);
    },

    /** Applies the masked fields after validating all of them; an empty string resets a field to its default. */
    async update(userId: string, change: ProfileUpdate): Promise<AccountView> {
      const paths = new Set<string>();
      for (const p of change.paths) {
        if (p === "profile") for (const f of PROFILE_FIELDS) paths.add(`profile.${f}`);
        else paths.add(p);
      }
      const v = change.profile;
      if (paths.has("date_of_birth") && change.dateOfBirth) checkDateOfBirth(change.dateOfBirth, "user.date_of_birth");
      if (paths.has("phone_number") && change.phoneNumber) checkPhone(change.phoneNumber, "user.phone_number");
      if (paths.has("profile.avatar_url") && v.avatarUrl) checkAvatarUrl(v.avatarUrl, "user.profile.avatar_url");
      const language = paths.has("profile.preferred_language") && v.preferredLanguage ? canonicalLanguage(v.preferredLanguage, "user.profile.preferred_language") : "en";
      if (paths.has("profile.timezone") && v.timezone) checkTimezone(v.timezone, "user.profile.timezone");
      if (paths.has("profile.country") && v.country) checkCountry(v.country, "user.profile.country");

      const em = deps.orm.em.fork();
      const user = await em.findOneOrFail(User, userId);
      const profile = await em.findOneOrFail(UserProfile, { user: userId });
      if (paths.has("first_name")) user.firstName = change.firstName;
      if (paths.has("last_name")) user.lastName = change.lastName;
      if (paths.has("date_of_birth")) user.dateOfBirth = change.dateOfBirth || null;
      if (paths.has("phone_number")) user.phoneNumber = change.phoneNumber ? phones.encrypt(change.phoneNumber) : null;
      if (paths.has("profile.bio")) profile.bio = v.bio;
      if (paths.has("profile.avatar_url")) profile.avatar = v.avatarUrl || null;
      if (paths.has("profile.preferred_language")) profile.preferredLanguage = language;
      if (paths.has("profile.timezone")) profile.timezone = v.timezone || "UTC";
      if (paths.has("profile.country")) profile.country = v.country;
      await em.flush();
      return viewOf(em, user, phones, log);
    },

    /** Replaces the favourite genres; any unknown id rejects the whole call. */
    async setFavoriteGenres(userId: string, genreIds: readonly string[]): Promise<FavoriteGenreView[]> {
      const em = deps.orm.em.fork();
      const ids = [...new Set(genreIds)];
      const genres = ids.length === 0 ? [] : await em.find(Genre, { id: { $in: ids } });
      const known = new Set(genres.map((g) => g.id));
      const unknown = ids.filter((id) => !known.has(id));
      if (unknown.length > 0) throw new InvalidInputError(`unknown genre ${unknown.join(", ")}`, "genre_ids");
      const profile = await em.findOneOrFail(UserProfile, { user: userId });
      await em.transactional(async (tx) => {
        await tx.nativeDelete(UserFavoriteGenre, { profile: profile.id });
        for (const g of genres) tx.create(UserFavoriteGenre, { profile: profile.id, genre: g });
      });
      return loadFavoriteGenres(em, profile.id);
    },

    /** Staff listing, newest account first, keyset-paginated on id. */
    async list(q: ListUsersQuery): Promise<{ accounts: AccountView[]; nextPageToken: string }> {
      const size = pageSize(q.pageSize, { fallback: 50, max: MAX_PAGE });
      const filterKey = createHash("sha256").update(JSON.stringify([q.isActive, q.isPremium, q.query])).digest("hex").slice(0, 12);
      const after = decodePageToken(q.pageToken, ["id"], filterKey)?.[0];
      const where: Record<string, unknown> = {};
      if (q.isActive !== undefined) where.isActive = q.isActive;
      if (q.isPremium !== undefined) where.isPremium = q.isPremium;
      if (after) where.id = { $lt: after };
      if (q.query) {
        const prefix = `${q.query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        where.$or = [{ username: { $ilike: prefix } }, { email: { $ilike: prefix } }];
      }
      const em = deps.orm.em.fork();
      const users = await em.find(User, where, { orderBy: { id: "desc" }, limit: size + 1 });
      const page = users.slice(0, size);
      const accounts = [];
      for (const u of page) accounts.push(await viewOf(em, u, phones, log));
      const last = page[page.length - 1];
      const nextPageToken = users.length > size && last ? encodePageToken([last.id], filterKey) : "";
      return { accounts, nextPageToken };
    },
  };
}

export type Profiles = ReturnType<typeof createProfiles>;
