import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/platform/config.ts";
import { clusterTarget } from "../../src/platform/redis.ts";

// Production refuses to start without its own secrets (development has fixed defaults).
const PRODUCTION_SECRETS = {
  JWT_SECRET: "x".repeat(40),
  DATA_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString("base64")}`,
  // Notification links are signed and point at the public address (issue 6).
  TRACKING_SECRET: "t".repeat(40),
  PUBLIC_BASE_URL: "https://movierec.example.com",
};

describe("configuration", () => {
  it("has working defaults", () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.databaseUrl).toMatch(/^postgres:/);
    expect(c.corsOrigins).toEqual(["*"]);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("sizes each process's PostgreSQL pool from the host's connection budget and process count unless DB_POOL_MAX is set", () => {
    expect(loadConfig({ SERVER_PROCESSES: "2", WORKER_PROCESSES: "2" }).dbPoolMax).toBe(10);
    expect(loadConfig({ SERVER_PROCESSES: "16", WORKER_PROCESSES: "16" }).dbPoolMax).toBe(2);
    const c = loadConfig({ SERVER_PROCESSES: "8", WORKER_PROCESSES: "2", DB_CONNECTION_BUDGET: "60" });
    expect(c.dbPoolMax).toBe(6);
    expect((c.serverProcesses + c.workerProcesses) * c.dbPoolMax).toBeLessThanOrEqual(60);
    expect(loadConfig({ SERVER_PROCESSES: "16", WORKER_PROCESSES: "16", DB_POOL_MAX: "25" }).dbPoolMax).toBe(25);
  });

  it("reads the recommendation settings, validates them and lets the training schedule be turned off", () => {
    expect(loadConfig({}).recommendation).toMatchObject({ topN: 100, rescoreDebounceMs: 2000, maxItems: 2500, trainCron: "30 2 * * *", bootstrapMinInteractions: 50, rescoreSweepMs: 30_000, trainLockMs: 60_000, scoreShardUsers: 5000, tuneSeconds: 60 });
    const c = loadConfig({ REC_TOP_N: "50", REC_RESCORE_DEBOUNCE_MS: "0", REC_MAX_ITEMS: "4000", REC_TRAIN_CRON: "0 */6 * * 1-5", REC_TUNE_SECONDS: "0" });
    expect(c.recommendation).toMatchObject({ topN: 50, rescoreDebounceMs: 0, maxItems: 4000, trainCron: "0 */6 * * 1-5", tuneSeconds: 0 });
    expect(loadConfig({ REC_TRAIN_CRON: "off" }).recommendation.trainCron).toBe("");
    const err = (() => {
      try {
        loadConfig({ REC_TOP_N: "0", REC_MAX_ITEMS: "many", REC_TRAIN_CRON: "every night" });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err?.problems.map((p) => p.split("=")[0])).toEqual(["REC_TOP_N", "REC_MAX_ITEMS", "REC_TRAIN_CRON"]);
  });

  it("reports every bad value, one line each", () => {
    let error: unknown;
    try {
      loadConfig({ PORT: "99999", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud", CORS_ORIGINS: "https://ok.example.com,not a url", REDIS_PREFIX: "a:b" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems.join("\n")).toMatch(/PORT.*between 0 and 65535/);
    expect(problems.join("\n")).toMatch(/DATABASE_URL must use postgres/);
    expect(problems.join("\n")).toMatch(/LOG_LEVEL/);
    expect(problems.join("\n")).toMatch(/CORS_ORIGINS entry "not a url"/);
    expect(problems.join("\n")).toMatch(/REDIS_PREFIX/);
  });

  it("allows no browser origin by default in production", () => {
    expect(loadConfig({ NODE_ENV: "production", ...PRODUCTION_SECRETS }).corsOrigins).toEqual([]);
  });

  it("requires the authentication secrets in production, and rejects the development ones there", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/JWT_SECRET is required in production[\s\S]*DATA_ENCRYPTION_KEYS is required/);
    const devKey = `dev:${Buffer.alloc(32, 7).toString("base64")}`;
    expect(() => loadConfig({ NODE_ENV: "production", JWT_SECRET: "y".repeat(40), DATA_ENCRYPTION_KEYS: devKey })).toThrow(/development key/);
  });

  it("parses data keys (first one encrypts), service tokens and login limits", () => {
    const k = (b: number) => Buffer.alloc(32, b).toString("base64");
    const c = loadConfig({
      DATA_ENCRYPTION_KEYS: `new:${k(2)},old:${k(1)}`,
      SERVICE_TOKENS: `web-backend:analytics.write+users.read:${"a".repeat(32)}`,
      LOGIN_MAX_FAILURES_PER_ACCOUNT: "3",
    });
    expect(c.auth.dataKeys.map((d) => d.id)).toEqual(["new", "old"]);
    expect(c.auth.serviceTokens).toEqual([{ name: "web-backend", scopes: ["analytics.write", "users.read"], token: "a".repeat(32) }]);
    expect(c.auth.loginMaxFailuresPerAccount).toBe(3);
    expect(Object.isFrozen(c.auth)).toBe(true);
  });

  it("names each bad authentication setting", () => {
    let error: unknown;
    try {
      loadConfig({ JWT_SECRET: "short", DATA_ENCRYPTION_KEYS: "k1:c2hvcnQ=", SERVICE_TOKENS: "web:analytics.write:tooshort" });
    } catch (e) {
      error = e;
    }
    const problems = (error as ConfigError).problems.join("\n");
    expect(problems).toMatch(/JWT_SECRET must be at least 32/);
    expect(problems).toMatch(/DATA_ENCRYPTION_KEYS entries must be/);
    expect(problems).toMatch(/SERVICE_TOKENS entries must be/);
  });
});

describe("scale-out settings", () => {
  it("reads a Redis Cluster URL with the prefix as given (keys carry their own hash tags), and refuses a malformed one", () => {
    const c = loadConfig({ REDIS_URL: "redis+cluster://:secret@10.0.0.1:7000,10.0.0.2:7001", REDIS_PREFIX: "mr" });
    expect(c.redisPrefix).toBe("mr");
    expect(loadConfig({ REDIS_PREFIX: "mr" }).redisPrefix).toBe("mr");
    expect(() => loadConfig({ REDIS_PREFIX: "{mr}" })).toThrow(/must not contain '\{'/);
    expect(clusterTarget(c.redisUrl)).toEqual({ nodes: [{ host: "10.0.0.1", port: 7000 }, { host: "10.0.0.2", port: 7001 }], password: "secret", tls: false });
    expect(() => loadConfig({ REDIS_URL: "redis+cluster://10.0.0.1:notaport" })).toThrow(ConfigError);
  });

  it("reads read replicas and the read-your-writes window", () => {
    const c = loadConfig({ DATABASE_REPLICA_URLS: "postgres://r1/movierec, postgres://r2/movierec", DATABASE_READ_YOUR_WRITES_MS: "2000" });
    expect(c.databaseReplicaUrls).toEqual(["postgres://r1/movierec", "postgres://r2/movierec"]);
    expect(c.readYourWritesMs).toBe(2000);
    expect(loadConfig({}).databaseReplicaUrls).toEqual([]);
    expect(() => loadConfig({ DATABASE_REPLICA_URLS: "mysql://r1/x" })).toThrow(ConfigError);
  });
});
