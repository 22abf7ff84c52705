/** The notification settings of the configuration: defaults, validation, production requirements. */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/platform/config.ts";

const PRODUCTION = {
  NODE_ENV: "production",
  JWT_SECRET: "x".repeat(40),
  DATA_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString("base64")}`,
  TRACKING_SECRET: "s".repeat(40),
  PUBLIC_BASE_URL: "https://api.movierec.example/",
};

describe("notification configuration", () => {
  it("has local defaults for development", () => {
    const n = loadConfig({}).notification;
    expect(n.smtp).toMatchObject({ host: "127.0.0.1", port: 1025, secure: false, user: undefined });
    expect(n.publicBaseUrl).toBe("http://localhost:8080");
    expect(n.fcm.baseUrl).toBe("https://fcm.googleapis.com");
    // Heartbeat-renewed lease and a frequent sweep: a dead worker's claims are recovered within ~20 s (issue 11, row 13).
    expect([n.leaseMs, n.sweepIntervalMs]).toEqual([15_000, 5_000]);
    expect(n.alertsPerDay).toBe(3);
    expect([n.alertsCron, n.maxRecipients]).toEqual(["0 10 * * *", 10_000]);
  });

  it("reads the SMTP relay, push providers and schedules", () => {
    const n = loadConfig({
      SMTP_HOST: "smtp.sendgrid.net", SMTP_PORT: "465", SMTP_SECURE: "true", SMTP_USER: "apikey", SMTP_PASSWORD: "SG.secret",
      VAPID_PUBLIC_KEY: "pub", VAPID_PRIVATE_KEY: "priv", FCM_PROJECT_ID: "p", FCM_ACCESS_TOKEN: "t", FCM_BASE_URL: "http://127.0.0.1:9/",
      ALERTS_PER_USER_PER_DAY: "5", DIGEST_TICK_MS: "30000",
    }).notification;
    expect(n.smtp).toMatchObject({ host: "smtp.sendgrid.net", port: 465, secure: true, user: "apikey", password: "SG.secret" });
    expect(n.webPush).toMatchObject({ publicKey: "pub", privateKey: "priv" });
    expect(n.fcm).toEqual({ baseUrl: "http://127.0.0.1:9", projectId: "p", accessToken: "t" });
    expect([n.alertsPerDay, n.digestTickMs]).toEqual([5, 30000]);
    expect(loadConfig({ ALERTS_CRON: "off", SEND_MAX_RECIPIENTS: "50" }).notification).toMatchObject({ alertsCron: "", maxRecipients: 50 });
  });

  it("refuses inconsistent settings", () => {
    expect(() => loadConfig({ SMTP_SECURE: "yes" })).toThrow(/SMTP_SECURE must be true or false/);
    expect(() => loadConfig({ VAPID_PUBLIC_KEY: "only-half" })).toThrow(/VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY go together/);
    expect(() => loadConfig({ DELIVERY_LEASE_MS: "100" })).toThrow(/DELIVERY_LEASE_MS/);
    expect(() => loadConfig({ TRACKING_SECRET: "short" })).toThrow(/TRACKING_SECRET must be at least 32 characters/);
    expect(() => loadConfig({ ALERTS_CRON: "every day" })).toThrow(/ALERTS_CRON="every day" must be five cron fields/);
    expect(() => loadConfig({ SEND_MAX_RECIPIENTS: "0" })).toThrow(/SEND_MAX_RECIPIENTS/);
  });

  it("requires its own tracking secret and public URL in production", () => {
    expect(loadConfig(PRODUCTION).notification.publicBaseUrl).toBe("https://api.movierec.example");
    expect(() => loadConfig({ ...PRODUCTION, TRACKING_SECRET: "" })).toThrow(/TRACKING_SECRET is required in production/);
    expect(() => loadConfig({ ...PRODUCTION, PUBLIC_BASE_URL: "" })).toThrow(/PUBLIC_BASE_URL is required in production/);
    expect(() => loadConfig({ ...PRODUCTION, TRACKING_SECRET: "dev-only-movierec-tracking-secret-0123456789" })).toThrow(/development default/);
  });
});
