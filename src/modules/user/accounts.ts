/**
 * Account life cycle: register, log in, refresh, log out, change password, delete. Rules only, no protobuf.
 * Passwords and tokens never reach a log line or an error message.
 */
import { createHash } from "node:crypto";
import type { EntityManager, MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import type { AuthConfig } from "../../platform/config.ts";
import { ConflictError, PermissionError, UnauthenticatedError } from "../../platform/errors.ts";
import { recordAudit } from "../audit/index.ts";
import type { Logger } from "../../platform/logger.ts";
import type { AccessTokens } from "./access-tokens.ts";
import { type AccountView, loadAccount, viewOf } from "./account-view.ts";
import type { DataCipher } from "./data-cipher.ts";
import { User, UserProfile } from "./entities/index.ts";
import { checkDateOfBirth, checkEmail, checkPassword, checkPhone, checkUsername } from "./field-rules.ts";
import type { LoginRateLimiter } from "./login-rate-limiter.ts";
import type { PasswordHasher } from "./password-hasher.ts";
import type { SessionStore } from "./session-store.ts";

export interface AccountsDeps {
  orm: MikroORM;
  redis: Redis;
  auth: AuthConfig;
  log: Logger;
  hasher: PasswordHasher;
  tokens: AccessTokens;
  sessions: SessionStore;
  limiter: LoginRateLimiter;
  phones: DataCipher;
}

export interface TokenPair {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

export interface RegisterInput {
  username: string;
  email: string;
  password: string;
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  phoneNumber: string;
  requestId: string;
}

/** Where a call comes from: for rate limiting and the session list. */
export interface ClientInfo {
  ip: string | undefined;
  userAgent: string;
}

/** One message for every failed login, so it tells nothing about which part was wrong or whether the account exists. */
const BAD_LOGIN = "invalid login or password";
const REGISTER_REPLAY_MS = 24 * 3600 * 1000;

export function createAccounts(deps: AccountsDeps) {
  const { hasher, tokens, sessions, limiter, phones, log } = deps;

  async function issue(em: EntityManager, user: User, client: ClientInfo): Promise<TokenPair> {
    const refresh = await sessions.open(em, user.id, client.userAgent);
    const access = await tokens.sign({ userId: user.id, sessionId: refresh.sessionId, isStaff: user.isStaff });
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken: refresh.refreshToken, refreshTokenExpiresAt: refresh.expiresAt };
  }

  /** Checks `password` for `userId` under the login throttle (a stolen access token must not allow guessing either). */
  async function confirmPassword(em: EntityManager, userId: string, password: string, client: ClientInfo): Promise<User> {
    // The same account counters as Login: confirming a password is one more guess at it.
    const attempt = await limiter.reserve({ userId }, client.ip);
    const user = await em.findOne(User, userId);
    if (!user || !(await hasher.verify(user.password, password))) {
      attempt.failed();
      throw new PermissionError("current password is wrong");
    }
    await attempt.succeeded();
    return user;
  }

  return {
    /** Creates user + profile + notification preferences (design defaults) in one transaction, and a session. */
    async register(input: RegisterInput, client: ClientInfo): Promise<{ account: AccountView; tokens: TokenPair }> {
      const email = input.email.trim();
      checkUsername(input.username);
      checkEmail(email);
      checkPassword(input.password, { username: input.username, email });
      if (input.dateOfBirth) checkDateOfBirth(input.dateOfBirth);
      if (input.phoneNumber) checkPhone(input.phoneNumber);
      const replayKey = input.requestId ? `register-req:${createHash("sha256").update(input.requestId).digest("hex").slice(0, 32)}` : undefined;
      const em = deps.orm.em.fork();
      if (replayKey) {
        // A retried request (same request_id, same credentials) gets the account it created, with a new session.
        const seen = await deps.redis.get(replayKey);
        if (seen) {
          const user = await em.findOne(User, seen);
          if (user && user.username === input.username && (await hasher.verify(user.password, input.password))) {
            const pair = await issue(em, user, client);
            return { account: await viewOf(em, user, phones, log), tokens: pair };
          }
        }
      }
      const clash = await em.getConnection().execute<{ username: string }[]>(
        "select username from users where username = ? or lower(email) = lower(?) limit 2",
        [input.username, email],
      );
      if (clash.length > 0) {
        // Saying "taken" lets a caller test whether an address has an account (SECURITY.md, "Registration"): each such
        // answer costs the caller's address one attempt of its login budget, so enumeration is as bounded as guessing.
        await limiter.reserve({ unknownLogin: `register:${email.toLowerCase()}` }, client.ip);
        if (clash.some((r) => r.username === input.username)) throw new ConflictError("username is already taken");
        throw new ConflictError("email is already registered");
      }
      const passwordHash = await hasher.hash(input.password);
      let user: User;
      try {
        user = await em.transactional(async (tx) => {
          const u = tx.create(User, {
            username: input.username,
            email,
            password: passwordHash,
            firstName: input.firstName,
            lastName: input.lastName,
            dateOfBirth: input.dateOfBirth || null,
            phoneNumber: input.phoneNumber ? phones.encrypt(input.phoneNumber) : null,
          });
          tx.create(UserProfile, { user: u });
          await tx.flush();
          // The notification module owns the entity; the row and its defaults are the design's, written here so that
          // an account never exists without its preferences.
          await tx.execute("insert into notification_preferences (user_id) values (?)", [u.id]);
          await recordAudit(tx, { action: "user.register", table: "users", operation: "INSERT", recordId: u.id, after: { is_active: true, is_staff: false } });
          return u;
        });
      } catch (e) {
        // Lost a race with a concurrent registration of the same name or address.
        const msg = (e as { constraint?: string; message?: string }).constraint ?? (e as Error).message ?? "";
        if (/users_username_key/.test(msg)) throw new ConflictError("username is already taken");
        if (/idx_users_email_lower_unique/.test(msg)) throw new ConflictError("email is already registered");
        throw e;
      }
      if (replayKey) await deps.redis.set(replayKey, user.id, "PX", REGISTER_REPLAY_MS, "NX");
      const pair = await issue(em, user, client);
      return { account: await loadAccount(em, user.id, phones, log), tokens: pair };
    },

    /** Username or email + password → a new session. Throttled per account and per client address. */
    async login(login: string, password: string, client: ClientInfo): Promise<{ account: AccountView; tokens: TokenPair }> {
      const name = login.trim();
      const em = deps.orm.em.fork();
      const byEmail = /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(name);
      // Emails match case-insensitively (through the unique index on lower(email)); usernames exactly.
      const found = byEmail ? await em.execute<{ id: string }[]>("select id from users where lower(email) = lower(?)", [name]) : [];
      const user = byEmail ? (found[0] ? await em.findOne(User, found[0].id) : null) : await em.findOne(User, { username: name });
      // The account is resolved first, so its username and its email share one throttle; the attempt is reserved
      // before hashing, so parallel guesses cannot outrun the count.
      const attempt = await limiter.reserve(user ? { userId: user.id } : { unknownLogin: name }, client.ip);
      if (!user) {
        await hasher.verifyDummy(password);
        attempt.failed();
        throw new UnauthenticatedError(BAD_LOGIN);
      }
      if (!(await hasher.verify(user.password, password)) || !user.isActive) {
        attempt.failed();
        throw new UnauthenticatedError(BAD_LOGIN);
      }
      await attempt.succeeded();
      if (hasher.needsRehash(user.password)) user.password = await hasher.hash(password);
      user.lastLogin = new Date();
      await em.flush();
      const pair = await issue(em, user, client);
      return { account: await viewOf(em, user, phones, log), tokens: pair };
    },

    /** Rotates a refresh token; a re-used one revokes its session. */
    async refresh(refreshToken: string): Promise<TokenPair> {
      const em = deps.orm.em.fork();
      const next = await sessions.rotate(em, refreshToken);
      const access = await tokens.sign({ userId: next.user.id, sessionId: next.sessionId, isStaff: next.user.isStaff });
      return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken: next.refreshToken, refreshTokenExpiresAt: next.expiresAt };
    },

    /** Ends the caller's current session, the session of `refreshToken`, or all of them. Idempotent. */
    async logout(caller: { userId: string; sessionId?: string }, opts: { refreshToken: string; all: boolean }): Promise<void> {
      const em = deps.orm.em.fork();
      if (opts.all) await sessions.revoke(em, caller.userId, {}, "logout_all");
      else if (opts.refreshToken) await sessions.revokeByToken(em, caller.userId, opts.refreshToken, "logout");
      else if (caller.sessionId) await sessions.revoke(em, caller.userId, { sessionId: caller.sessionId }, "logout");
    },

    /** New password after the current one; every other session ends. */
    async changePassword(caller: { userId: string; sessionId?: string }, current: string, next: string, client: ClientInfo): Promise<void> {
      const em = deps.orm.em.fork();
      const user = await confirmPassword(em, caller.userId, current, client);
      checkPassword(next, { username: user.username, email: user.email }, "new_password");
      user.password = await hasher.hash(next);
      await em.transactional(async (tx) => {
        tx.persist(user);
        const revoked = await sessions.revoke(tx, caller.userId, { allExcept: caller.sessionId }, "password_changed");
        // Only that it changed: no hash, old or new, ever reaches the trail.
        await recordAudit(tx, { action: "user.password_change", table: "users", operation: "UPDATE", recordId: user.id, after: { changed: ["password"], sessions_revoked: revoked } });
      });
      sessions.revoked(caller.userId); // again after the commit: a check sent in between saw the old state
    },

    /** Deletes the account; the database cascades to everything the design ties to the user (activity logs keep their rows, user NULL). */
    async deleteAccount(caller: { userId: string }, password: string, client: ClientInfo): Promise<void> {
      const em = deps.orm.em.fork();
      await confirmPassword(em, caller.userId, password, client);
      await em.transactional(async (tx) => {
        await tx.nativeDelete(User, { id: caller.userId });
        await recordAudit(tx, { action: "user.delete", table: "users", operation: "DELETE", recordId: caller.userId });
      });
      sessions.revoked(caller.userId);
      log.info({ userId: caller.userId }, "account deleted");
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;
