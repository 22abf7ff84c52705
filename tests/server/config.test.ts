import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/platform/config.ts";

describe("configuration", () => {
  it("has working defaults", () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.databaseUrl).toMatch(/^postgres:/);
    expect(c.corsOrigins).toEqual(["*"]);
    expect(Object.isFrozen(c)).toBe(true);
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
    expect(loadConfig({ NODE_ENV: "production" }).corsOrigins).toEqual([]);
  });
});
