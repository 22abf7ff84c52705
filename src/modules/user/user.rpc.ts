/** UserService handlers: protobuf ⇄ domain mapping and the caller from the context, nothing else. */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { FavoriteGenreSchema, ProfileSchema, UserSchema, type User as UserMessage } from "../../../gen/movierec/user/v1/user_pb.js";
import type { UserService } from "../../../gen/movierec/user/v1/user_service_pb.js";
import { callerKey, requireStaff, requireUser } from "../../platform/caller.ts";
import { remoteAddressKey } from "../../platform/remote-address.ts";
import type { AccountStatus } from "./account-status.ts";
import type { AccountView } from "./account-view.ts";
import type { Accounts, ClientInfo, TokenPair } from "./accounts.ts";
import type { Profiles } from "./profiles.ts";

const client = (ctx: HandlerContext): ClientInfo => ({
  ip: ctx.values.get(remoteAddressKey),
  userAgent: ctx.requestHeader.get("user-agent") ?? "",
});

const ts = (d: Date | null | undefined) => (d ? timestampFromDate(d) : undefined);

/** The wire form of an account (never the password hash; the phone decrypted for its owner or staff). */
export function toUserMessage(a: AccountView): UserMessage {
  const u = a.user;
  return create(UserSchema, {
    id: u.id,
    username: u.username,
    email: u.email,
    firstName: u.firstName,
    lastName: u.lastName,
    dateOfBirth: u.dateOfBirth ?? "",
    isStaff: u.isStaff,
    isActive: u.isActive,
    isPremium: u.isPremium,
    phoneNumber: a.phoneNumber,
    dateJoined: ts(u.dateJoined),
    lastLogin: ts(u.lastLogin),
    createdAt: ts(u.createdAt),
    updatedAt: ts(u.updatedAt),
    profile: create(ProfileSchema, {
      bio: a.profile.bio,
      avatarUrl: a.profile.avatar ?? "",
      preferredLanguage: a.profile.preferredLanguage,
      timezone: a.profile.timezone,
      country: a.profile.country,
    }),
    favoriteGenres: a.favoriteGenres.map((g) => create(FavoriteGenreSchema, g)),
  });
}

const tokenFields = (t: TokenPair) => ({
  accessToken: t.accessToken,
  accessTokenExpiresAt: ts(t.accessTokenExpiresAt),
  refreshToken: t.refreshToken,
  refreshTokenExpiresAt: ts(t.refreshTokenExpiresAt),
});

export function createUserRpc(deps: {
  accounts: Accounts;
  profiles: Profiles;
  exportData: (userId: string) => Promise<Record<string, unknown>>;
  status: AccountStatus;
}): ServiceImpl<typeof UserService> {
  const { accounts, profiles } = deps;
  return {
    async register(req, ctx) {
      const r = await accounts.register(
        {
          username: req.username,
          email: req.email,
          password: req.password,
          firstName: req.firstName,
          lastName: req.lastName,
          dateOfBirth: req.dateOfBirth,
          phoneNumber: req.phoneNumber,
          requestId: req.requestId,
        },
        client(ctx),
      );
      return { user: toUserMessage(r.account), ...tokenFields(r.tokens) };
    },
    async login(req, ctx) {
      const r = await accounts.login(req.login, req.password, client(ctx));
      return { user: toUserMessage(r.account), ...tokenFields(r.tokens) };
    },
    async refreshSession(req) {
      return tokenFields(await accounts.refresh(req.refreshToken));
    },
    async logout(req, ctx) {
      const caller = ctx.values.get(callerKey);
      const user = requireUser(caller);
      await accounts.logout({ userId: user.userId, sessionId: caller.kind === "user" ? caller.sessionId : undefined }, { refreshToken: req.refreshToken, all: req.allSessions });
      return {};
    },
    async getMe(_req, ctx) {
      const user = requireUser(ctx.values.get(callerKey));
      return { user: toUserMessage(await profiles.getAccount(user.userId)) };
    },
    async updateProfile(req, ctx) {
      const user = requireUser(ctx.values.get(callerKey));
      const u = req.user;
      const account = await profiles.update(user.userId, {
        paths: req.updateMask?.paths ?? [],
        firstName: u?.firstName ?? "",
        lastName: u?.lastName ?? "",
        dateOfBirth: u?.dateOfBirth ?? "",
        phoneNumber: u?.phoneNumber ?? "",
        profile: {
          bio: u?.profile?.bio ?? "",
          avatarUrl: u?.profile?.avatarUrl ?? "",
          preferredLanguage: u?.profile?.preferredLanguage ?? "",
          timezone: u?.profile?.timezone ?? "",
          country: u?.profile?.country ?? "",
        },
      });
      return { user: toUserMessage(account) };
    },
    async setFavoriteGenres(req, ctx) {
      const user = requireUser(ctx.values.get(callerKey));
      const genres = await profiles.setFavoriteGenres(user.userId, req.genreIds);
      return { favoriteGenres: genres.map((g) => create(FavoriteGenreSchema, g)) };
    },
    async changePassword(req, ctx) {
      const caller = ctx.values.get(callerKey);
      const user = requireUser(caller);
      const sessionId = caller.kind === "user" ? caller.sessionId : undefined;
      await accounts.changePassword({ userId: user.userId, sessionId }, req.currentPassword, req.newPassword, client(ctx));
      return {};
    },
    async deleteAccount(req, ctx) {
      const user = requireUser(ctx.values.get(callerKey));
      await accounts.deleteAccount({ userId: user.userId }, req.password, client(ctx));
      return {};
    },
    async exportMyData(_req, ctx) {
      const user = requireUser(ctx.values.get(callerKey));
      const generatedAt = new Date();
      const doc = await deps.exportData(user.userId);
      return { json: JSON.stringify({ generatedAt, ...doc }), generatedAt: timestampFromDate(generatedAt) };
    },
    async setUserActive(req, ctx) {
      requireStaff(ctx.values.get(callerKey));
      const changed = await deps.status.setActive(req.userId, req.active);
      return { user: toUserMessage(await profiles.getAccount(req.userId)), changed };
    },
    async getUser(req, ctx) {
      requireStaff(ctx.values.get(callerKey));
      return { user: toUserMessage(await profiles.getAccount(req.userId)) };
    },
    async listUsers(req, ctx) {
      requireStaff(ctx.values.get(callerKey));
      const page = await profiles.list({ pageSize: req.pageSize, pageToken: req.pageToken, isActive: req.isActive, isPremium: req.isPremium, query: req.query });
      return { users: page.accounts.map(toUserMessage), nextPageToken: page.nextPageToken };
    },
  };
}
