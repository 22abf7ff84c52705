/**
 * Configuration, read once from the environment, validated, and frozen.
 * Nothing else in the code base reads `process.env`: everything receives a `Config`.
 */

export interface Config {
  readonly env: "development" | "test" | "production";
  /** Host and port the one API server listens on (gRPC, gRPC-Web and Connect share it). */
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** Prefix of every Redis key and BullMQ queue, so several deployments (or test runs) can share one Redis. */
  readonly redisPrefix: string;
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Origins allowed to call from a browser; `*` allows any. */
  readonly corsOrigins: readonly string[];
  /** How often the health monitor probes PostgreSQL and Redis. */
  readonly healthIntervalMs: number;
  /** How long SIGTERM waits for in-flight calls before closing connections. */
  readonly shutdownGraceMs: number;
  readonly dbPoolMax: number;
  /** The TMDb API client of the catalogue import (and optional OMDb enrichment). */
  readonly tmdb: TmdbConfig;
}

/** A configuration error lists every bad variable, one line each. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
const ENVS = ["development", "test", "production"] as const;

/** Reads and validates the configuration; throws ConfigError naming each bad value. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const str = (name: string, fallback: string): string => {
    const v = env[name];
    return v === undefined || v === "" ? fallback : v;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}=${JSON.stringify(raw)} must be an integer between ${min} and ${max}`);
      return fallback;
    }
    return n;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const v = str(name, fallback);
    if (!(allowed as readonly string[]).includes(v)) {
      problems.push(`${name}=${JSON.stringify(v)} must be one of ${allowed.join(", ")}`);
      return fallback;
    }
    return v as T;
  };
  const url = (name: string, fallback: string, protocols: string[]): string => {
    const v = str(name, fallback);
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) problems.push(`${name} must use ${protocols.join(" or ")} (got ${u.protocol})`);
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return v;
  };

  const nodeEnv = oneOf("NODE_ENV", ENVS, "development");
  const corsOrigins = str("CORS_ORIGINS", nodeEnv === "production" ? "" : "*")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const origin of corsOrigins) {
    if (origin === "*") continue;
    try {
      const u = new URL(origin);
      if (u.origin !== origin) problems.push(`CORS_ORIGINS entry ${JSON.stringify(origin)} must be a bare origin like https://app.example.com`);
    } catch {
      problems.push(`CORS_ORIGINS entry ${JSON.stringify(origin)} is not an origin`);
    }
  }

  const config: Config = {
    env: nodeEnv,
    host: str("HOST", "0.0.0.0"),
    port: int("PORT", 8080, 0, 65535),
    databaseUrl: url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/movierec", ["postgres:", "postgresql:"]),
    redisUrl: url("REDIS_URL", "redis://127.0.0.1:6379/0", ["redis:", "rediss:"]),
    redisPrefix: str("REDIS_PREFIX", "movierec"),
    logLevel: oneOf("LOG_LEVEL", LOG_LEVELS, nodeEnv === "test" ? "warn" : "info"),
    corsOrigins,
    healthIntervalMs: int("HEALTH_INTERVAL_MS", 2000, 50, 60_000),
    shutdownGraceMs: int("SHUTDOWN_GRACE_MS", 10_000, 0, 120_000),
    dbPoolMax: int("DB_POOL_MAX", 10, 1, 200),
    tmdb: {
      baseUrl: url("TMDB_BASE_URL", "https://api.themoviedb.org/3", ["https:", "http:"]).replace(/\/+$/, ""),
      apiKey: env.TMDB_API_KEY || undefined,
      bearerToken: env.TMDB_BEARER_TOKEN || undefined,
      // TMDb allows about 40-50 requests/s per IP; the limit is shared by every worker through Redis.
      requestsPerSecond: int("TMDB_RPS", 40, 1, 1000),
      omdbBaseUrl: url("OMDB_BASE_URL", "https://www.omdbapi.com/", ["https:", "http:"]),
      omdbApiKey: env.OMDB_API_KEY || undefined,
    },
  };
  if (/[:\s]/.test(config.redisPrefix)) problems.push("REDIS_PREFIX must not contain ':' or spaces (BullMQ uses ':' as separator)");
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/**
 * TMDb access. Credentials are optional: without them the server runs and StartTmdbImport answers
 * FAILED_PRECONDITION, since the catalogue can also be filled by the dataset import.
 */
export interface TmdbConfig {
  /** API v3 root without a trailing slash, e.g. `https://api.themoviedb.org/3`. */
  readonly baseUrl: string;
  /** v3 API key (sent as `api_key`), or … */
  readonly apiKey: string | undefined;
  /** … a v4 read access token (sent as `Authorization: Bearer`); preferred when both are set. */
  readonly bearerToken: string | undefined;
  /** Client-side limit shared by all workers. */
  readonly requestsPerSecond: number;
  readonly omdbBaseUrl: string;
  /** Enables `imdb_rating` enrichment from OMDb when set. */
  readonly omdbApiKey: string | undefined;
}
