/**
 * ExportMyData holds every kind of data stored about the user; DeleteAccount removes exactly what the design
 * cascades and keeps activity logs with user_id NULL; no response or log line holds a password, hash, refresh token
 * or phone number in clear.
 */
import { randomBytes, randomInt } from "node:crypto";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { closeAppDeps, dependencyProbes, openAppDeps, type AppDeps } from "../../src/server/app-deps.ts";
import { buildAuthenticator, buildImpls } from "../../src/server/impls.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { testConfig } from "../support/server.ts";

// A server like the test server, but logging at debug level into memory, so the log lines can be searched.
const logLines: string[] = [];
let deps: AppDeps;
let server: RunningServer;
let client: Client<typeof UserService>;
beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  });
  const log = pino({ level: "debug" }, sink);
  const config = testConfig();
  deps = await openAppDeps(config, log);
  server = await startServer({ config, log, probes: dependencyProbes(deps), impls: buildImpls(deps), authenticate: buildAuthenticator(deps) });
  client = createClient(UserService, createConnectTransport({ baseUrl: `http://127.0.0.1:${server.port}`, httpVersion: "1.1" }));
});
afterAll(async () => {
  await server?.close();
  if (deps) await closeAppDeps(deps);
});

const sql = <T = Record<string, unknown>>(q: string, params: unknown[] = []) => deps.orm.em.fork().execute<T[]>(q, params);

/** A user with one row in every table that references users. */
async function userWithEverything() {
  const username = `dr_${randomBytes(5).toString("hex")}`;
  const password = `secret-pass-${randomBytes(4).toString("hex")}`;
  const phone = `+1415${randomInt(1_000_000, 9_999_999)}`;
  const reg = await client.register({ username, email: `${username}@example.test`, password, phoneNumber: phone });
  const id = reg.user!.id;
  const [movie] = await sql<{ id: string }>(
    "insert into movies (tmdb_id, title, original_title, original_language) values (?, 'Export Movie', 'Export Movie', 'en') returning id::text as id",
    [randomInt(10_000_000, 2_000_000_000)],
  );
  const m = movie!.id;
  const tag = randomBytes(4).toString("hex");
  const [genre] = await sql<{ id: string }>("insert into genres (tmdb_id, name, slug) values (?, ?, ?) returning id::text as id", [
    randomInt(10_000_000, 2_000_000_000), `Export ${tag}`, `export-${tag}`,
  ]);
  await client.setFavoriteGenres({ genreIds: [genre!.id] }, { headers: { authorization: `Bearer ${reg.accessToken}` } });
  await sql("insert into user_movie_interactions (user_id, movie_id, interaction_type, rating) values (?, ?, 'rating', 4)", [id, m]);
  const [rec] = await sql<{ id: string }>("insert into user_recommendations (user_id, movie_id, score, algorithm) values (?, ?, 0.9, 'hybrid') returning id::text as id", [id, m]);
  await sql("insert into recommendation_feedback (user_id, recommendation_id, feedback_type, comment) values (?, ?, 'positive', 'loved it')", [id, rec!.id]);
  await sql("insert into user_recommendation_lists (user_id, algorithm, movie_ids, scores) values (?, 'hybrid', array[?::bigint], '{0.9}')", [id, m]);
  await sql("insert into user_devices (user_id, device_token, device_type, device_name) values (?, ?, 'ios', 'phone')", [id, `devtoken-${tag}-abcdef`]);
  await sql("insert into notification_logs (user_id, notification_type, subject, content, recipient) values (?, 'email', 'Weekly picks', 'Hi', ?)", [id, `${username}@example.test`]);
  await sql("insert into user_activity_logs (user_id, session_id, action_type, movie_id, ip_address, user_agent, source) values (?, ?, 'movie_view', ?, '203.0.113.0', 'ua', 'web')", [id, `s-${tag}`, m]);
  await sql("insert into performance_metrics (metric_name, metric_value, metric_unit, user_id) values ('client.latency', 12.5, 'ms', ?)", [id]);
  return { id, username, password, phone, reg, movieId: m, tag, headers: { authorization: `Bearer ${reg.accessToken}` } };
}

describe("data rights", () => {
  it("exports every kind of data the user has, without secrets", async () => {
    const u = await userWithEverything();
    const res = await client.exportMyData({}, { headers: u.headers });
    const doc = JSON.parse(res.json) as Record<string, unknown[]> & { account: Record<string, unknown>; profile: unknown };
    expect(doc.account).toMatchObject({ id: u.id, username: u.username, phoneNumber: u.phone });
    expect(doc.profile).toMatchObject({ timezone: "UTC" });
    for (const section of ["favoriteGenres", "interactions", "recommendationLists", "recommendations", "feedback", "notificationPreferences", "devices", "notifications", "activity", "performanceMetrics", "sessions"]) {
      expect(doc[section], section).toHaveLength(1);
    }
    expect(doc.interactions![0]).toMatchObject({ movie_id: u.movieId, interaction_type: "rating", rating: 4 });
    expect(doc.recommendationLists![0]).toMatchObject({ algorithm: "hybrid", movie_ids: [u.movieId], scores: [0.9] });
    expect(doc.devices![0]).toMatchObject({ device_token_end: "…abcdef" });
    expect(res.json).not.toContain(`devtoken-${u.tag}`);
    expect(res.json).not.toContain(u.password);
    expect(res.json).not.toContain("$argon2id$");
    expect(res.json).not.toContain(u.reg.refreshToken);
  });

  it("requires the password, then deletes the account and what the design cascades, keeping activity logs anonymous", async () => {
    const u = await userWithEverything();
    const wrong = await client.deleteAccount({ password: "not-my-password" }, { headers: u.headers }).catch((e: unknown) => ConnectError.from(e));
    expect(wrong).toMatchObject({ code: Code.PermissionDenied });
    await client.deleteAccount({ password: u.password }, { headers: u.headers });
    for (const table of [
      "users where id = ?",
      "user_profiles where user_id = ?",
      "user_favorite_genres f join user_profiles p on p.id = f.userprofile_id where p.user_id = ?",
      "user_movie_interactions where user_id = ?",
      "user_recommendations where user_id = ?",
      "user_recommendation_lists where user_id = ?",
      "recommendation_feedback where user_id = ?",
      "notification_preferences where user_id = ?",
      "user_devices where user_id = ?",
      "notification_logs where user_id = ?",
      "user_sessions where user_id = ?",
      "user_activity_logs where user_id = ?",
      "performance_metrics where user_id = ?",
    ]) {
      const [row] = await sql<{ n: string }>(`select count(*)::text as n from ${table}`, [u.id]);
      expect(row!.n, table).toBe("0");
    }
    const kept = await sql("select user_id, session_id from user_activity_logs where session_id = ?", [`s-${u.tag}`]);
    expect(kept).toEqual([{ user_id: null, session_id: `s-${u.tag}` }]);
    const metric = await sql("select user_id from performance_metrics where metric_name = 'client.latency' and user_id is null limit 1");
    expect(metric).toHaveLength(1);
    // The movie (not the user's data) stays; the old token stops working.
    expect(await sql("select id from movies where id = ?", [u.movieId])).toHaveLength(1);
    const after = await client.getMe({}, { headers: u.headers }).catch((e: unknown) => ConnectError.from(e));
    expect(after).toMatchObject({ code: Code.Unauthenticated });
  });

  it("no log line holds a password, password hash, token or phone number", async () => {
    const u = await userWithEverything();
    await client.login({ login: u.username, password: "a-wrong-password" }).catch(() => undefined);
    await client.login({ login: u.username, password: u.password });
    await client.refreshSession({ refreshToken: u.reg.refreshToken });
    const all = logLines.join("");
    expect(logLines.length).toBeGreaterThan(5);
    for (const secret of [u.password, "a-wrong-password", u.reg.refreshToken, u.reg.accessToken, u.phone, "$argon2id$"]) {
      expect(all).not.toContain(secret);
    }
  });
});
