/**
 * Configuration, read once from the environment, validated, and frozen.
 * Nothing else in the code base reads `process.env`: everything receives a `Config`.
 */
import { clusterTarget, isClusterUrl } from "./redis.ts";
import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import { loadTlsConfig, type TlsConfig } from "./tls-config.ts";

export type { ServiceCertificate, TlsConfig } from "./tls-config.ts";

export interface Config {
  readonly env: "development" | "test" | "production";
  /** Host and port the one API server listens on (gRPC, gRPC-Web and Connect share it). */
  readonly host: string;
  readonly port: number;
  /** TLS on that port (ALPN h2 + http/1.1) and client-certificate identities; undefined = cleartext. */
  readonly tls: TlsConfig | undefined;
  readonly databaseUrl: string;
  /**
   * Streaming replicas of DATABASE_URL (DATABASE_REPLICA_URLS, comma-separated) for reads that tolerate lag: the
   * catalogue, trending, similar movies, served recommendations, reports. Empty: everything reads the primary.
   */
  readonly databaseReplicaUrls: readonly string[];
  /** How long a user's reads stay on the primary after their own write (DATABASE_READ_YOUR_WRITES_MS). */
  readonly readYourWritesMs: number;
  readonly redisUrl: string;
  /**
   * LOCAL_CACHE_MS: how long an API process answers GetMovie, the catalogue's first pages and a user's served lists
   * from its own copy of the Redis entry (0: every call reads Redis). Writes drop the copies in every process at once
   * (Redis pub/sub); this bounds what a lost message costs, so it is capped at one second.
   */
  readonly localCacheMs: number;
  /** Prefix of every Redis key and BullMQ queue, so several deployments (or test runs) can share one Redis. */
  readonly redisPrefix: string;
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** LOG_FORMAT: `auto` (human-readable on a terminal, JSON lines otherwise), `json` or `pretty`. */
  readonly logFormat: "auto" | "json" | "pretty";
  /** Origins allowed to call from a browser; `*` allows any. */
  readonly corsOrigins: readonly string[];
  /** How often the health monitor probes PostgreSQL and Redis. */
  readonly healthIntervalMs: number;
  /** How long SIGTERM waits for in-flight calls before closing connections. */
  readonly shutdownGraceMs: number;
  /** Time a new connection has to show its protocol and, on HTTP/1.1, to send each request's headers (slowloris bound). */
  readonly headersTimeoutMs: number;
  /** A connection with no call in progress is closed after this (HTTP/1.1 keep-alive is capped at 5 s besides). */
  readonly idleTimeoutMs: number;
  /**
   * PostgreSQL connections per process (DB_POOL_MAX). Default: an equal share of DB_CONNECTION_BUDGET among the
   * host's serve and worker processes, 2 to 10 each, so one host's processes stay within PostgreSQL's default
   * max_connections (100) on any number of cores.
   */
  readonly dbPoolMax: number;
  /** DB_CONNECTION_BUDGET: connections all the serve and worker processes of one host may hold together (default 80). */
  readonly dbConnectionBudget: number;
  /** Processes `serve` runs (node:cluster, one listening port); default: the number of cores. */
  readonly serverProcesses: number;
  /** Processes `worker` runs; default: the number of cores. */
  readonly workerProcesses: number;
  /** DATASETS_DIR: where `npm run import` finds the public datasets when no --data-dir is given (no default). */
  readonly datasetsDir: string | undefined;
  /** The TMDb API client of the catalogue import (and optional OMDb enrichment). */
  readonly tmdb: TmdbConfig;
  /** Authentication and account security (issue 3); see src/modules/user/SECURITY.md. */
  readonly auth: AuthConfig;
  /** Email and push delivery, tracking links and schedules (issue 6). */
  readonly notification: NotificationConfig;
  /** Activity ingestion, RPC metrics and log retention (issue 7). */
  readonly analytics: AnalyticsConfig;
  /** Recommendation engine: list sizes, rescoring debounce, model size and the training schedule (issue 5). */
  readonly recommendation: RecommendationConfig;
  /**
   * How often a worker checks that its repeatable-job schedulers still exist in Redis (WORKER_SCHEDULE_CHECK_MS);
   * a Redis restarted empty loses them, and the worker registers them again (also at once on reconnect).
   */
  readonly workerScheduleCheckMs: number;
  /**
   * BullMQ job lock of the worker role (WORKER_LOCK_MS, BullMQ's 30 s by default), also its stalled-job check
   * period: a job whose worker died is taken over by another worker within about twice this.
   */
  readonly workerLockMs: number;
}

/** Recommendation engine settings. */
export interface RecommendationConfig {
  /** Items kept per (user, algorithm) list in `user_recommendation_lists` (REC_TOP_N, at most 1,000: list-handles.ts). */
  readonly topN: number;
  /** How long a user's rescoring waits for more interactions before it runs (REC_RESCORE_DEBOUNCE_MS). */
  readonly rescoreDebounceMs: number;
  /** Items in the dense EASE model (n² weights: 2,500 → 25 MB, training time grows with n³) (REC_MAX_ITEMS). */
  readonly maxItems: number;
  /** Cron pattern (5 fields, UTC) of the scheduled training; empty when REC_TRAIN_CRON=off. */
  readonly trainCron: string;
  /** How often the worker re-enqueues rescorings whose job Redis never got or lost (REC_RESCORE_SWEEP_MS). */
  readonly rescoreSweepMs: number;
  /**
   * Lifetime of the one-training-at-a-time lock, renewed while a training runs (REC_TRAIN_LOCK_MS): a training whose
   * worker died is taken up again at most about this long after BullMQ finds its job stalled.
   */
  readonly trainLockMs: number;
  /** A worker starting with no model trains at once when at least this many interactions exist; 0 = never (REC_BOOTSTRAP_MIN_INTERACTIONS). */
  readonly bootstrapMinInteractions: number;
  /** Seconds each training may spend tuning the hybrid on a temporal validation split of its data; 0 = serve the defaults (REC_TUNE_SECONDS). */
  readonly tuneSeconds: number;
  /** Scorable users per range of a full scoring run, the unit a worker process takes from the queue (REC_SCORE_SHARD_USERS). */
  readonly scoreShardUsers: number;
  /** Threads computing batch scoring's lists in each worker process; 1 = the process's own thread (REC_SCORE_THREADS). */
  readonly scoreThreads: number;
}

/** Five cron fields (minute hour day month weekday) of numbers, ranges, lists, steps, `*` — or empty. */
const CRON = /^(\S+\s+){4}\S+$/;
const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/;

/** Analytics: whose forwarded headers are believed, how long activity logs are kept, how often RPC metrics are written. */
export interface AnalyticsConfig {
  /** Addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` is trusted; empty trusts none. */
  readonly trustedProxies: readonly string[];
  /** Whole months of `user_activity_logs` partitions kept online (older ones are archived or dropped). */
  readonly retentionMonths: number;
  /** What partition maintenance does with expired partitions: move them to the `archive` schema, or drop them. */
  readonly archiveMode: "archive" | "drop";
  /** How often the in-memory RPC metrics are written to `performance_metrics`. */
  readonly metricsFlushMs: number;
  /** Days `audit_log` rows are kept; older ones are deleted by the daily `prune-audit-log` job (AUDIT_RETENTION_DAYS). */
  readonly auditRetentionDays: number;
  /** How often buffered impressions are written (IMPRESSION_FLUSH_MS); a full buffer is written at once. */
  readonly impressionFlushMs: number;
  /** Impression rows buffered before an early write (IMPRESSION_BUFFER_MAX). */
  readonly impressionBufferMax: number;
  /** Clicks and conversions count for an impression shown at most this many hours before (ATTRIBUTION_WINDOW_HOURS). */
  readonly attributionWindowHours: number;
  /**
   * Whether served lists are recorded as impressions (RECORD_IMPRESSIONS on|off, default on). Off loses the online
   * evaluation; it exists to measure what recording costs (`npm run bench:serving`).
   */
  readonly recordImpressions: boolean;
}

/** Secrets and limits of authentication. Secrets have dev defaults but are required in production. */
export interface AuthConfig {
  /** HMAC key (HS256) signing access tokens; at least 32 characters. */
  readonly jwtSecret: string;
  /** `kid` written in access-token headers, so the key can be rotated later. */
  readonly jwtKeyId: string;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  /** AES-256-GCM keys for personal data at rest (phone numbers); the first one encrypts, all decrypt. */
  readonly dataKeys: readonly { readonly id: string; readonly key: Buffer }[];
  /** Internal callers: a bearer secret grants `scopes` under `name`. */
  readonly serviceTokens: readonly { readonly name: string; readonly scopes: readonly string[]; readonly token: string }[];
  /** Failed logins allowed per account from one client address, within `loginWindowMs` (see SECURITY.md). */
  readonly loginMaxFailuresPerAccount: number;
  /** Failed logins allowed per client address, all accounts together. */
  readonly loginMaxFailuresPerIp: number;
  /** Failed logins allowed per account from all addresses together; addresses the owner signed in from are exempt. */
  readonly loginMaxFailuresPerAccountTotal: number;
  readonly loginWindowMs: number;
  /** argon2id cost: memory in KiB and passes (parallelism 1); stored in each hash, so raising them later is safe. */
  readonly passwordMemoryKib: number;
  readonly passwordIterations: number;
  /**
   * How long a process trusts a session check (open session, active account) before asking PostgreSQL again: the
   * longest a logout, password change, token-reuse revocation or deactivation takes to reach every process. 0 asks
   * on every call.
   */
  readonly sessionCacheTtlMs: number;
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

  /** REDIS_URL: one server (redis://, rediss://) or a cluster's seed nodes (redis+cluster://host:port,host:port). */
  const redisUrl = (): string => {
    const v = str("REDIS_URL", "redis://127.0.0.1:6379/0");
    if (!isClusterUrl(v)) return url("REDIS_URL", "redis://127.0.0.1:6379/0", ["redis:", "rediss:"]);
    try {
      clusterTarget(v);
    } catch (e) {
      problems.push(`REDIS_URL: ${(e as Error).message}`);
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

  const serverProcesses = int("SERVER_PROCESSES", availableParallelism(), 1, 256);
  const workerProcesses = int("WORKER_PROCESSES", availableParallelism(), 1, 256);
  const dbConnectionBudget = int("DB_CONNECTION_BUDGET", 80, 2, 10_000);

  const config: Config = {
    env: nodeEnv,
    host: str("HOST", "0.0.0.0"),
    port: int("PORT", 8080, 0, 65535),
    tls: loadTlsConfig(env, str, int, problems),
    databaseUrl: url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/movierec", ["postgres:", "postgresql:"]),
    databaseReplicaUrls: str("DATABASE_REPLICA_URLS", "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "")
      .map((u, k) => {
        try {
          if (!["postgres:", "postgresql:"].includes(new URL(u).protocol)) problems.push(`DATABASE_REPLICA_URLS entry ${k + 1} must use postgres: or postgresql:`);
        } catch {
          problems.push(`DATABASE_REPLICA_URLS entry ${k + 1} is not a valid URL`);
        }
        return u;
      }),
    readYourWritesMs: int("DATABASE_READ_YOUR_WRITES_MS", 5000, 0, 600_000),
    redisUrl: redisUrl(),
    localCacheMs: int("LOCAL_CACHE_MS", 1000, 0, 1000),
    // The same on one Redis and on a cluster: keys used together carry hash tags of their own (see platform/redis.ts),
    // and each BullMQ queue gets a tagged prefix in cluster mode (platform/queues.ts queuePrefix).
    redisPrefix: str("REDIS_PREFIX", "movierec"),
    logLevel: oneOf("LOG_LEVEL", LOG_LEVELS, nodeEnv === "test" ? "warn" : "info"),
    logFormat: oneOf("LOG_FORMAT", ["auto", "json", "pretty"] as const, "auto"),
    corsOrigins,
    healthIntervalMs: int("HEALTH_INTERVAL_MS", 2000, 50, 60_000),
    shutdownGraceMs: int("SHUTDOWN_GRACE_MS", 10_000, 0, 120_000),
    headersTimeoutMs: int("HEADERS_TIMEOUT_MS", 10_000, 100, 300_000),
    idleTimeoutMs: int("IDLE_TIMEOUT_MS", 60_000, 100, 3_600_000),
    serverProcesses,
    workerProcesses,
    dbConnectionBudget,
    dbPoolMax: int("DB_POOL_MAX", poolShare(dbConnectionBudget, serverProcesses + workerProcesses), 1, 200),
    datasetsDir: env.DATASETS_DIR || undefined,
    tmdb: {
      baseUrl: url("TMDB_BASE_URL", "https://api.themoviedb.org/3", ["https:", "http:"]).replace(/\/+$/, ""),
      apiKey: env.TMDB_API_KEY || undefined,
      bearerToken: env.TMDB_BEARER_TOKEN || undefined,
      // TMDb allows about 40-50 requests/s per IP; the limit is shared by every worker through Redis.
      requestsPerSecond: int("TMDB_RPS", 40, 1, 1000),
      omdbBaseUrl: url("OMDB_BASE_URL", "https://www.omdbapi.com/", ["https:", "http:"]),
      omdbApiKey: env.OMDB_API_KEY || undefined,
    },
    auth: loadAuthConfig(env, nodeEnv, str, int, problems),
    notification: loadNotificationConfig(env, nodeEnv, str, int, url, problems),
    analytics: {
      trustedProxies: str("TRUSTED_PROXIES", "").split(",").map((e) => e.trim()).filter((e) => e !== ""),
      retentionMonths: int("ANALYTICS_RETENTION_MONTHS", 12, 1, 120),
      archiveMode: oneOf("ANALYTICS_ARCHIVE_MODE", ["archive", "drop"] as const, "archive"),
      metricsFlushMs: int("METRICS_FLUSH_INTERVAL_MS", 10_000, 100, 3_600_000),
      // Two years by default: long enough for a yearly review of who changed what.
      auditRetentionDays: int("AUDIT_RETENTION_DAYS", 730, 1, 3650),
      impressionFlushMs: int("IMPRESSION_FLUSH_MS", 1000, 10, 60_000),
      impressionBufferMax: int("IMPRESSION_BUFFER_MAX", 5000, 1, 1_000_000),
      attributionWindowHours: int("ATTRIBUTION_WINDOW_HOURS", 24, 1, 24 * 90),
      recordImpressions: oneOf("RECORD_IMPRESSIONS", ["on", "off"] as const, "on") === "on",
    },
    recommendation: {
      topN: int("REC_TOP_N", 100, 1, 1000),
      rescoreDebounceMs: int("REC_RESCORE_DEBOUNCE_MS", 2000, 0, 600_000),
      maxItems: int("REC_MAX_ITEMS", 2500, 10, 20_000),
      // Nightly at 02:30 UTC, after the analytics aggregation (00:20); "off" turns the schedule off.
      trainCron: ((c) => (c === "off" ? "" : c))(str("REC_TRAIN_CRON", "30 2 * * *").trim()),
      rescoreSweepMs: int("REC_RESCORE_SWEEP_MS", 30_000, 100, 3_600_000),
      trainLockMs: int("REC_TRAIN_LOCK_MS", 60_000, 500, 3_600_000),
      bootstrapMinInteractions: int("REC_BOOTSTRAP_MIN_INTERACTIONS", 50, 0, 1_000_000_000),
      tuneSeconds: int("REC_TUNE_SECONDS", 60, 0, 3600),
      scoreShardUsers: int("REC_SCORE_SHARD_USERS", 5000, 1, 10_000_000),
      // The cores left per worker process: with one process per core (the default) each scores on its own thread.
      scoreThreads: int("REC_SCORE_THREADS", Math.max(1, Math.floor(availableParallelism() / workerProcesses)), 1, 256),
    },
    workerScheduleCheckMs: int("WORKER_SCHEDULE_CHECK_MS", 5_000, 100, 3_600_000),
    workerLockMs: int("WORKER_LOCK_MS", 30_000, 500, 3_600_000),
  };
  const cron = config.recommendation.trainCron;
  if (cron !== "" && !(CRON.test(cron) && cron.split(/\s+/).every((f) => CRON_FIELD.test(f)))) {
    problems.push(`REC_TRAIN_CRON=${JSON.stringify(cron)} must be five cron fields (minute hour day month weekday), or "off"`);
  }
  for (const entry of config.analytics.trustedProxies) {
    const [addr, bits, ...rest] = entry.split("/");
    const family = isIP(addr ?? "");
    const max = family === 6 ? 128 : 32;
    if (family === 0 || rest.length > 0 || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max))) {
      problems.push(`TRUSTED_PROXIES entry ${JSON.stringify(entry)} must be an IP address or CIDR range`);
    }
  }
  if (/[:\s]/.test(config.redisPrefix)) problems.push("REDIS_PREFIX must not contain ':' or spaces (BullMQ uses ':' as separator)");
  if (/[{}]/.test(config.redisPrefix)) problems.push("REDIS_PREFIX must not contain '{' or '}' (the keys' own hash tags decide their cluster slots)");
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** Development-only secrets: fixed so tokens survive restarts in dev; refused in production. */
const DEV_JWT_SECRET = "dev-only-movierec-jwt-secret-change-me-0123456789";
const DEV_DATA_KEY = "dev:" + Buffer.alloc(32, 7).toString("base64");

function loadAuthConfig(
  env: Env,
  nodeEnv: Config["env"],
  str: (name: string, fallback: string) => string,
  int: (name: string, fallback: number, min: number, max: number) => number,
  problems: string[],
): AuthConfig {
  const production = nodeEnv === "production";
  const secret = (name: string, devDefault: string): string => {
    const v = env[name];
    if (v !== undefined && v !== "") return v;
    if (production) problems.push(`${name} is required in production`);
    return devDefault;
  };
  const jwtSecret = secret("JWT_SECRET", DEV_JWT_SECRET);
  if (jwtSecret.length < 32) problems.push("JWT_SECRET must be at least 32 characters");
  if (production && jwtSecret === DEV_JWT_SECRET) problems.push("JWT_SECRET must not be the development default in production");

  // DATA_ENCRYPTION_KEYS = "id:base64key,id2:base64key2": 32-byte keys, the first encrypts.
  const dataKeys: { id: string; key: Buffer }[] = [];
  for (const entry of secret("DATA_ENCRYPTION_KEYS", DEV_DATA_KEY).split(",").map((e) => e.trim()).filter((e) => e !== "")) {
    const [id, b64] = entry.split(":");
    const key = b64 === undefined ? Buffer.alloc(0) : Buffer.from(b64, "base64");
    if (!id || !/^[A-Za-z0-9_-]{1,16}$/.test(id) || key.length !== 32) {
      problems.push("DATA_ENCRYPTION_KEYS entries must be id:base64 with a 1-16 character id ([A-Za-z0-9_-]) and a 32-byte key");
      continue;
    }
    if (dataKeys.some((k) => k.id === id)) problems.push(`DATA_ENCRYPTION_KEYS has key id ${id} twice`);
    dataKeys.push({ id, key });
  }
  if (dataKeys.length === 0) problems.push("DATA_ENCRYPTION_KEYS needs at least one key");
  if (production && dataKeys.some((k) => k.id === "dev")) problems.push("DATA_ENCRYPTION_KEYS must not use the development key in production");

  // SERVICE_TOKENS = "name:scope1+scope2:secret,...": secrets of at least 32 URL-safe characters.
  const serviceTokens: { name: string; scopes: string[]; token: string }[] = [];
  for (const entry of str("SERVICE_TOKENS", "").split(",").map((e) => e.trim()).filter((e) => e !== "")) {
    const [name, scopes, token, ...rest] = entry.split(":");
    if (!name || !/^[a-z][a-z0-9-]{0,62}$/.test(name) || scopes === undefined || !/^[a-z.+]*$/.test(scopes) || !token || rest.length > 0 || !/^[A-Za-z0-9_-]{32,}$/.test(token)) {
      problems.push("SERVICE_TOKENS entries must be name:scope+scope:secret (name [a-z0-9-], secret at least 32 of [A-Za-z0-9_-])");
      continue;
    }
    serviceTokens.push({ name, scopes: scopes.split("+").filter((s) => s !== ""), token });
  }

  return Object.freeze({
    jwtSecret,
    jwtKeyId: str("JWT_KEY_ID", "k1"),
    accessTokenTtlSeconds: int("ACCESS_TOKEN_TTL_SECONDS", 900, 1, 86_400),
    refreshTokenTtlSeconds: int("REFRESH_TOKEN_TTL_SECONDS", 30 * 86_400, 60, 366 * 86_400),
    dataKeys,
    serviceTokens,
    loginMaxFailuresPerAccount: int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5, 1, 1000),
    loginMaxFailuresPerIp: int("LOGIN_MAX_FAILURES_PER_IP", 50, 1, 100_000),
    loginMaxFailuresPerAccountTotal: int("LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL", 100, 1, 1_000_000),
    loginWindowMs: int("LOGIN_WINDOW_MS", 15 * 60_000, 100, 86_400_000),
    // OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane); see the login bench for the throughput it gives.
    passwordMemoryKib: int("PASSWORD_MEMORY_KIB", 19_456, 1024, 1_048_576),
    passwordIterations: int("PASSWORD_ITERATIONS", 2, 1, 20),
    // Capped at one second: revocations must reach every process within that (issue 13).
    sessionCacheTtlMs: int("SESSION_CACHE_TTL_MS", 1000, 0, 1000),
  });
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

/** Email (SMTP), push (Web Push, FCM HTTP v1), tracking links and delivery schedules. */
export interface NotificationConfig {
  /** Public root of this server, used in tracking pixels, click links and unsubscribe links. */
  readonly publicBaseUrl: string;
  /** HMAC key signing tracking and unsubscribe links; at least 32 characters. */
  readonly trackingSecret: string;
  readonly smtp: {
    readonly host: string;
    readonly port: number;
    /** Implicit TLS (port 465); otherwise STARTTLS is used when the relay offers it. */
    readonly secure: boolean;
    readonly user: string | undefined;
    readonly password: string | undefined;
    /** From header, e.g. `movierec <no-reply@example.com>`. */
    readonly from: string;
    /** Connection, greeting and socket timeout. */
    readonly timeoutMs: number;
    /** Pooled connections per worker process. */
    readonly poolSize: number;
  };
  /** Web Push (VAPID); without keys web devices fail with "web push not configured". */
  readonly webPush: { readonly publicKey: string | undefined; readonly privateKey: string | undefined; readonly subject: string };
  /** FCM HTTP v1 for ios/android; `baseUrl` is configurable so tests point it at a local server. */
  readonly fcm: { readonly baseUrl: string; readonly projectId: string | undefined; readonly accessToken: string | undefined };
  /**
   * How long a worker's 'sending' claim lasts without renewal; the worker renews it every third of this while it
   * lives, so a claim past its lease belongs to a dead worker and is taken over at the next sweep.
   */
  readonly leaseMs: number;
  /** How often the outbox sweeper re-enqueues notifications whose job was lost or whose worker died. */
  readonly sweepIntervalMs: number;
  /** How often the digest scheduler looks for users whose digest time has come. */
  readonly digestTickMs: number;
  /** Alerts (recommendation, trending, new release) per user per rolling day, all channels together. */
  readonly alertsPerDay: number;
  /** Cron pattern (5 fields, UTC) of the daily trending and new-release alerts; empty when ALERTS_CRON=off. */
  readonly alertsCron: string;
  /** Most users one SendNotification with a filter may reach; more matches are refused, not truncated. */
  readonly maxRecipients: number;
}

const DEV_TRACKING_SECRET = "dev-only-movierec-tracking-secret-0123456789";

function loadNotificationConfig(
  env: Env,
  nodeEnv: Config["env"],
  str: (name: string, fallback: string) => string,
  int: (name: string, fallback: number, min: number, max: number) => number,
  url: (name: string, fallback: string, protocols: string[]) => string,
  problems: string[],
): NotificationConfig {
  const production = nodeEnv === "production";
  const trackingSecret = str("TRACKING_SECRET", production ? "" : DEV_TRACKING_SECRET);
  if (production && trackingSecret === "") problems.push("TRACKING_SECRET is required in production");
  else if (trackingSecret.length < 32) problems.push("TRACKING_SECRET must be at least 32 characters");
  if (production && trackingSecret === DEV_TRACKING_SECRET) problems.push("TRACKING_SECRET must not be the development default in production");
  if (production && !env.PUBLIC_BASE_URL) problems.push("PUBLIC_BASE_URL is required in production (links in emails point to it)");
  const bool = (name: string, fallback: boolean): boolean => {
    const v = str(name, String(fallback));
    if (v !== "true" && v !== "false") problems.push(`${name} must be true or false`);
    return v === "true";
  };
  const vapidPublic = env.VAPID_PUBLIC_KEY || undefined;
  const vapidPrivate = env.VAPID_PRIVATE_KEY || undefined;
  if ((vapidPublic === undefined) !== (vapidPrivate === undefined)) problems.push("VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY go together");
  const vapidSubject = str("VAPID_SUBJECT", "mailto:no-reply@movierec.local");
  if (!/^(mailto:|https:)/.test(vapidSubject)) problems.push("VAPID_SUBJECT must be a mailto: or https: URL");
  const timeoutMs = int("SMTP_TIMEOUT_MS", 30_000, 100, 600_000);
  // Renewed every third of itself while the worker holding it lives, so a slow send keeps its claim and a dead
  // worker's claims are free again within one lease; it must leave room for a renewal that is itself slow.
  const leaseMs = int("DELIVERY_LEASE_MS", 15_000, 300, 3_600_000);
  return Object.freeze({
    publicBaseUrl: url("PUBLIC_BASE_URL", "http://localhost:8080", ["https:", "http:"]).replace(/\/+$/, ""),
    trackingSecret,
    smtp: Object.freeze({
      host: str("SMTP_HOST", "127.0.0.1"),
      port: int("SMTP_PORT", production ? 587 : 1025, 1, 65535),
      secure: bool("SMTP_SECURE", false),
      user: env.SMTP_USER || undefined,
      password: env.SMTP_PASSWORD || undefined,
      from: str("SMTP_FROM", "movierec <no-reply@movierec.local>"),
      timeoutMs,
      poolSize: int("SMTP_POOL_SIZE", 5, 1, 100),
    }),
    webPush: Object.freeze({ publicKey: vapidPublic, privateKey: vapidPrivate, subject: vapidSubject }),
    fcm: Object.freeze({
      baseUrl: url("FCM_BASE_URL", "https://fcm.googleapis.com", ["https:", "http:"]).replace(/\/+$/, ""),
      projectId: env.FCM_PROJECT_ID || undefined,
      accessToken: env.FCM_ACCESS_TOKEN || undefined,
    }),
    leaseMs,
    sweepIntervalMs: int("DELIVERY_SWEEP_MS", 5_000, 100, 3_600_000),
    digestTickMs: int("DIGEST_TICK_MS", 60_000, 100, 3_600_000),
    alertsPerDay: int("ALERTS_PER_USER_PER_DAY", 3, 0, 1000),
    alertsCron: ((c) => {
      if (c === "off") return "";
      if (!(CRON.test(c) && c.split(/\s+/).every((f) => CRON_FIELD.test(f)))) problems.push(`ALERTS_CRON=${JSON.stringify(c)} must be five cron fields (minute hour day month weekday), or "off"`);
      return c;
    })(str("ALERTS_CRON", "0 10 * * *").trim()),
    maxRecipients: int("SEND_MAX_RECIPIENTS", 10_000, 1, 1_000_000),
  });
}

/**
 * Each process's share of a host's PostgreSQL connection budget: 10 on a 2-core host (4 processes of 10: the figure
 * the benches ran with), 2 on a 32-core one (64 processes). Past a few connections per core PostgreSQL only queues
 * the extra work inside itself, so a smaller pool per process costs no throughput while the total stays bounded.
 */
export function poolShare(budget: number, processes: number): number {
  return Math.max(2, Math.min(10, Math.floor(budget / Math.max(1, processes))));
}
