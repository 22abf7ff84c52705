/**
 * Access tokens: short-lived JWTs (HS256, key from configuration, `kid` in the header for rotation) carrying the
 * user id (`sub`), the session id (`sid`) and the staff flag. They are checked against the session and the account on
 * every call (see authenticator.ts), so logging out or deactivating an account takes effect at once.
 */
import { SignJWT, errors as joseErrors, jwtVerify } from "jose";

const ISSUER = "movierec";
const AUDIENCE = "movierec-api";

export interface AccessClaims {
  userId: string;
  sessionId: string;
  isStaff: boolean;
}

export interface AccessTokens {
  sign(claims: AccessClaims): Promise<{ token: string; expiresAt: Date }>;
  /** The claims of a valid, unexpired token; undefined for anything else (bad signature, expired, malformed). */
  verify(token: string): Promise<(AccessClaims & { expiresAtMs: number }) | undefined>;
}

export function createAccessTokens(opts: { secret: string; keyId: string; ttlSeconds: number; now?: () => number }): AccessTokens {
  const key = new TextEncoder().encode(opts.secret);
  const now = opts.now ?? Date.now;
  return {
    async sign(claims) {
      const iat = Math.floor(now() / 1000);
      const exp = iat + opts.ttlSeconds;
      const token = await new SignJWT({ sid: claims.sessionId, staff: claims.isStaff })
        .setProtectedHeader({ alg: "HS256", kid: opts.keyId, typ: "JWT" })
        .setSubject(claims.userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(key);
      return { token, expiresAt: new Date(exp * 1000) };
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ["HS256"],
          issuer: ISSUER,
          audience: AUDIENCE,
          currentDate: new Date(now()),
        });
        if (typeof payload.sub !== "string" || !/^[1-9][0-9]{0,18}$/.test(payload.sub)) return undefined;
        if (typeof payload.sid !== "string" || !/^[1-9][0-9]{0,18}$/.test(payload.sid)) return undefined;
        if (typeof payload.exp !== "number") return undefined;
        return { userId: payload.sub, sessionId: payload.sid, isStaff: payload.staff === true, expiresAtMs: payload.exp * 1000 };
      } catch (e) {
        if (e instanceof joseErrors.JOSEError) return undefined;
        throw e;
      }
    },
  };
}
