/**
 * The audit trail (issue 14, item 5): every sensitive action, called through the real server, writes exactly one
 * `audit_log` row (found by the request id the call sent) naming who, what, before/after without secrets, the
 * anonymised client address and the request id; a change that rolls back writes none, and an audit row that cannot
 * be written rolls its change back (same transaction). Staff list the trail with filters and page tokens; retention
 * deletes old rows.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AnalyticsService } from "../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { NotificationService } from "../../gen/movierec/notification/v1/notification_service_pb.js";
import { TemplateType } from "../../gen/movierec/notification/v1/notification_pb.js";
import { RecommendationService } from "../../gen/movierec/recommendation/v1/recommendation_service_pb.js";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { pruneAuditLog } from "../../src/modules/audit/index.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

let ts: TestServer;
let users: Client<typeof UserService>;
let catalog: Client<typeof CatalogService>;
let notifications: Client<typeof NotificationService>;
let recs: Client<typeof RecommendationService>;
let analytics: Client<typeof AnalyticsService>;
let staff: TestUser;
const uniq = () => randomBytes(5).toString("hex");

beforeAll(async () => {
  // A Redis prefix of our own: the training job enqueued here is never taken by another file's worker.
  ts = await startTestServer({ env: { REDIS_PREFIX: `${inject("redisPrefix")}audit` } });
  const transport = createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" });
  users = createClient(UserService, transport);
  catalog = createClient(CatalogService, transport);
  notifications = createClient(NotificationService, transport);
  recs = createClient(RecommendationService, transport);
  analytics = createClient(AnalyticsService, transport);
  staff = await createTestUser(ts.deps, { staff: true, prefix: "astaff" });
  // Failing at COMMIT (deferred), i.e. after the audit row was inserted: proves the row goes when the change goes.
  await ts.orm.em.fork().execute(`
    create or replace function audit_test_fail() returns trigger language plpgsql as $$
    begin raise exception 'audit test: forced rollback'; end $$;
    create constraint trigger audit_test_users_rollback after insert on users deferrable initially deferred
      for each row when (new.username like 'rbk\\_%') execute function audit_test_fail();
    create constraint trigger audit_test_movies_rollback after update on movies deferrable initially deferred
      for each row when (new.title = 'ROLLBACK ME') execute function audit_test_fail();
    create constraint trigger audit_test_templates_rollback after insert on notification_templates deferrable initially deferred
      for each row when (new.name like 'rbk-%') execute function audit_test_fail();
    create trigger audit_test_audit_fails before insert on audit_log
      for each row when (new.action = 'movie.update' and new.new_values->>'title' = 'AUDIT FAILS') execute function audit_test_fail();
  `);
});
afterAll(async () => {
  await ts?.orm.em
    .fork()
    .execute(`drop trigger if exists audit_test_users_rollback on users; drop trigger if exists audit_test_movies_rollback on movies;
      drop trigger if exists audit_test_templates_rollback on notification_templates; drop trigger if exists audit_test_audit_fails on audit_log;
      drop function if exists audit_test_fail()`)
    .catch(() => undefined);
  await ts?.close();
});

type Row = Record<string, unknown>;
/** Headers with a fresh request id (and the caller's token). */
const call = (who?: TestUser) => {
  const requestId = `audit-${uniq()}`;
  return { requestId, opts: { headers: { "x-request-id": requestId, ...(who?.headers ?? {}) } } };
};
const rowsOf = (requestId: string) => ts.orm.em.fork().execute<Row[]>("select * from audit_log where request_id = ? order by id", [requestId]);
const codeOf = (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => Code[ConnectError.from(e).code]);

/** Runs `action` with a fresh request id and returns the audit rows it wrote. */
async function audited(who: TestUser | undefined, action: (opts: { headers: Record<string, string> }) => Promise<unknown>): Promise<Row[]> {
  const c = call(who);
  await action(c.opts);
  return rowsOf(c.requestId);
}

async function makeMovie(title = `Audit ${uniq()}`): Promise<string> {
  const res = await catalog.createMovie(
    { movie: { tmdbId: 900_000_000 + Math.floor(Math.random() * 99_000_000), title, originalTitle: title, originalLanguage: "en" } },
    { headers: staff.headers },
  );
  return res.movie!.id;
}

describe("every sensitive action writes exactly one audit row", () => {
  it("registration, password change, refresh-token reuse, data export, deactivation and deletion", async () => {
    const username = `aud_${uniq()}`;
    const password = `correct-horse-${uniq()}`;
    const reg = call();
    const r = await users.register({ username, email: `${username}@example.test`, password, phoneNumber: "+14155550123" }, reg.opts);
    const userId = r.user!.id;
    const regRows = await rowsOf(reg.requestId);
    expect(regRows).toHaveLength(1);
    expect(regRows[0]).toMatchObject({ action: "user.register", table_name: "users", operation: "INSERT", record_id: userId, actor_type: "anonymous", client_address: "127.0.0.0" });
    // Never secrets or personal data beyond ids.
    expect(JSON.stringify(regRows[0])).not.toMatch(new RegExp(`${username}|example\\.test|4155550123|argon2`));

    const me: TestUser = { userId, username, email: "", password, accessToken: r.accessToken, refreshToken: r.refreshToken, headers: { authorization: `Bearer ${r.accessToken}` } };
    const pw = await audited(me, (o) => users.changePassword({ currentPassword: password, newPassword: `another-horse-${uniq()}` }, o));
    expect(pw).toHaveLength(1);
    expect(pw[0]).toMatchObject({ action: "user.password_change", record_id: userId, actor_type: "user", user_id: userId, new_values: { changed: ["password"] } });

    // Refresh-token reuse: the first rotation is not audited, presenting the used token again is.
    const fresh = await createTestUser(ts.deps, { prefix: "areuse" });
    expect(await audited(undefined, (o) => users.refreshSession({ refreshToken: fresh.refreshToken }, o))).toHaveLength(0);
    const reuse = call();
    expect(await codeOf(users.refreshSession({ refreshToken: fresh.refreshToken }, reuse.opts))).toBe("Unauthenticated");
    const reuseRows = await rowsOf(reuse.requestId);
    expect(reuseRows).toHaveLength(1);
    expect(reuseRows[0]).toMatchObject({ action: "session.token_reuse", table_name: "user_sessions", operation: "UPDATE", new_values: { user_id: fresh.userId, revoked_reason: "token_reuse" } });

    // The reuse revoked fresh's session: the rest acts on another account.
    const other = await createTestUser(ts.deps, { prefix: "aother" });
    const exp = await audited(other, (o) => users.exportMyData({}, o));
    expect(exp).toMatchObject([{ action: "user.export", operation: "READ", record_id: other.userId, user_id: other.userId }]);

    const deact = await audited(staff, (o) => users.setUserActive({ userId: other.userId, active: false }, o));
    expect(deact).toMatchObject([{ action: "user.deactivate", record_id: other.userId, user_id: staff.userId, old_values: { is_active: true }, new_values: { is_active: false } }]);
    // Setting the state it already has changes nothing and writes nothing.
    const again = call(staff);
    expect((await users.setUserActive({ userId: other.userId, active: false }, again.opts)).changed).toBe(false);
    expect(await rowsOf(again.requestId)).toHaveLength(0);
    expect(await audited(staff, (o) => users.setUserActive({ userId: other.userId, active: true }, o))).toMatchObject([{ action: "user.reactivate" }]);
    expect(await codeOf(users.setUserActive({ userId: other.userId, active: false }, { headers: (await createTestUser(ts.deps)).headers }))).toBe("PermissionDenied");
    // Deactivation ended other's sessions at once.
    expect(await codeOf(users.getMe({}, { headers: other.headers }))).toBe("Unauthenticated");

    const victim = await createTestUser(ts.deps, { prefix: "adel" });
    const del = await audited(victim, (o) => users.deleteAccount({ password: victim.password }, o));
    expect(del).toMatchObject([{ action: "user.delete", table_name: "users", operation: "DELETE", record_id: victim.userId, user_id: victim.userId }]);
  });

  it("staff edits to movies and templates", async () => {
    const c = call(staff);
    const title = `Audit ${uniq()}`;
    const created = await catalog.createMovie({ movie: { tmdbId: 900_000_000 + Math.floor(Math.random() * 99_000_000), title, originalTitle: title, originalLanguage: "en" } }, c.opts);
    const id = created.movie!.id;
    expect(await rowsOf(c.requestId)).toMatchObject([{ action: "movie.create", record_id: id, user_id: staff.userId, new_values: { title } }]);
    const upd = await audited(staff, (o) => catalog.updateMovie({ movie: { id, title: "Renamed" }, updateMask: { paths: ["title"] } }, o));
    expect(upd).toHaveLength(1);
    expect(upd[0]).toMatchObject({ action: "movie.update", old_values: { title }, new_values: { title: "Renamed" } });
    expect(Object.keys(upd[0]!.new_values as object)).toEqual(["title"]);
    expect(await audited(staff, (o) => catalog.deleteMovie({ movieId: id }, o))).toMatchObject([{ action: "movie.delete", operation: "DELETE", record_id: id }]);

    const tc = call(staff);
    const tpl = await notifications.createTemplate({ template: { name: `audit-${uniq()}`, templateType: TemplateType.PUSH_TRENDING, subject: "Hot", textContent: "now" } }, tc.opts);
    const tid = tpl.template!.id;
    expect(await rowsOf(tc.requestId)).toMatchObject([{ action: "template.create", record_id: tid }]);
    const tu = await audited(staff, (o) => notifications.updateTemplate({ template: { id: tid, subject: "Hotter" }, updateMask: { paths: ["subject"] } }, o));
    expect(tu).toMatchObject([{ action: "template.update", old_values: { subject: "Hot" }, new_values: { subject: "Hotter" } }]);
    expect(await audited(staff, (o) => notifications.deleteTemplate({ templateId: tid }, o))).toMatchObject([{ action: "template.delete", record_id: tid }]);
  });

  it("a send to a filtered audience (once, not per batch or retry) and training started", async () => {
    const [g] = await ts.orm.em.fork().execute<{ id: string }[]>("insert into genres (tmdb_id, name, slug) values (?, ?, ?) returning id::text as id", [
      800_000_000 + Math.floor(Math.random() * 99_000_000), `Audit ${uniq()}`, `audit-${uniq()}`,
    ]);
    const fans = await Promise.all([createTestUser(ts.deps), createTestUser(ts.deps)]);
    for (const f of fans) {
      await ts.orm.em.fork().execute("insert into user_favorite_genres (userprofile_id, genre_id) select id, ? from user_profiles where user_id = ?", [g!.id, f.userId]);
    }
    const tpl = await notifications.createTemplate({ template: { name: `audit-send-${uniq()}`, templateType: TemplateType.EMAIL_TRENDING, subject: "s", textContent: "t", isActive: true } }, { headers: staff.headers });
    const req = { filter: { favoriteGenreIds: [g!.id] }, template: { case: "templateId" as const, value: tpl.template!.id }, idempotencyKey: uniq(), ignorePreferences: true };
    const sent = await audited(staff, (o) => notifications.sendNotification(req, o));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ action: "notification.send_filtered", user_id: staff.userId, new_values: { matched_users: 2, filter: { favorite_genre_ids: [g!.id] } } });
    // The retry queues nothing new and writes nothing.
    expect(await audited(staff, (o) => notifications.sendNotification(req, o))).toHaveLength(0);

    const t = call(staff);
    const started = await recs.startTraining({ requestId: `audit-${uniq()}` }, t.opts);
    expect(await rowsOf(t.requestId)).toMatchObject([{ action: "training.start", record_id: started.jobId, user_id: staff.userId }]);
  });
});

describe("same transaction as the change", () => {
  it("a change that rolls back at commit writes no audit row", async () => {
    const reg = call();
    const username = `rbk_${uniq()}`;
    expect(await codeOf(users.register({ username, email: `${username}@example.test`, password: `correct-horse-${uniq()}` }, reg.opts))).toBe("Internal");
    expect(await rowsOf(reg.requestId)).toHaveLength(0);
    expect(await ts.orm.em.fork().execute("select 1 from users where username = ?", [username])).toHaveLength(0);

    const id = await makeMovie();
    const upd = call(staff);
    expect(await codeOf(catalog.updateMovie({ movie: { id, title: "ROLLBACK ME" }, updateMask: { paths: ["title"] } }, upd.opts))).toBe("Internal");
    expect(await rowsOf(upd.requestId)).toHaveLength(0);

    const tc = call(staff);
    expect(await codeOf(notifications.createTemplate({ template: { name: `rbk-${uniq()}`, templateType: TemplateType.PUSH_TRENDING, subject: "x", textContent: "y" } }, tc.opts))).toBe("Internal");
    expect(await rowsOf(tc.requestId)).toHaveLength(0);
  });

  it("an audit row that cannot be written rolls the change back", async () => {
    const title = `Audit ${uniq()}`;
    const id = await makeMovie(title);
    expect(await codeOf(catalog.updateMovie({ movie: { id, title: "AUDIT FAILS" }, updateMask: { paths: ["title"] } }, { headers: staff.headers }))).toBe("Internal");
    expect((await catalog.getMovie({ lookup: { case: "id", value: id } })).movie?.title).toBe(title);
  });
});

describe("ListAuditLog", () => {
  it("is staff only, filters, and pages newest first without gaps or repeats", async () => {
    const id = await makeMovie();
    for (let i = 0; i < 5; i++) await catalog.updateMovie({ movie: { id, runtime: 90 + i }, updateMask: { paths: ["runtime"] } }, { headers: staff.headers });
    const member = await createTestUser(ts.deps);
    expect(await codeOf(analytics.listAuditLog({}, { headers: member.headers }))).toBe("PermissionDenied");
    expect(await codeOf(analytics.listAuditLog({ action: "Not An Action" }, { headers: staff.headers }))).toBe("InvalidArgument");

    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await analytics.listAuditLog({ recordId: id, tableName: "movies", pageSize: 2, pageToken }, { headers: staff.headers });
      seen.push(...page.entries.map((e) => `${e.action}:${JSON.stringify(e.newValues)}`));
      for (const e of page.entries) expect(e).toMatchObject({ recordId: id, actorType: "user", actorUserId: staff.userId, clientAddress: "127.0.0.0" });
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(seen).toHaveLength(6);
    expect(seen[0]).toMatch(/^movie\.update:.*94/);
    expect(seen[5]).toMatch(/^movie\.create:/);
    const onlyCreate = await analytics.listAuditLog({ recordId: id, action: "movie.create" }, { headers: staff.headers });
    expect(onlyCreate.entries).toHaveLength(1);
    expect(await codeOf(analytics.listAuditLog({ pageToken: "garbage" }, { headers: staff.headers }))).toBe("InvalidArgument");
  });

  it("retention deletes rows older than the configured days", async () => {
    const em = ts.orm.em.fork();
    const marker = `old-${uniq()}`;
    await em.execute(
      `insert into audit_log (table_name, operation, action, record_id, "timestamp") values ('movies', 'UPDATE', 'movie.update', ?, now() - interval '40 days'),
       ('movies', 'UPDATE', 'movie.update', ?, now() - interval '10 days')`,
      [marker, marker],
    );
    expect(await pruneAuditLog(em, 30)).toBeGreaterThanOrEqual(1);
    expect(await em.execute("select 1 from audit_log where record_id = ?", [marker])).toHaveLength(1);
  });
});
