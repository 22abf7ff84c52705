/** Profiles over Connect: field-mask updates touch only the named fields, validation names the field, favourite genres, staff views. */
import { randomBytes, randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";

let ts: TestServer;
let client: Client<typeof UserService>;
let staff: TestUser;
beforeAll(async () => {
  ts = await startTestServer();
  client = createClient(UserService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
  staff = await createTestUser(ts.deps, { staff: true });
});
afterAll(async () => {
  await ts?.close();
});

const as = (u: TestUser) => ({ headers: u.headers });
const errOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => ConnectError.from(e));

/** Genres with unique TMDb ids, names and slugs (the catalogue is shared by every test file). */
async function makeGenres(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const tag = randomBytes(5).toString("hex");
    const rows = await ts.orm.em.fork().execute<{ id: string }[]>(
      "insert into genres (tmdb_id, name, slug) values (?, ?, ?) returning id::text as id",
      [randomInt(10_000_000, 2_000_000_000), `Genre ${tag}`, `genre-${tag}`],
    );
    ids.push(rows[0]!.id);
  }
  return ids;
}

describe("profiles", () => {
  it("writes only the fields named in the mask", async () => {
    const u = await createTestUser(ts.deps);
    await client.updateProfile(
      { user: { firstName: "Grace", lastName: "Hopper", profile: { bio: "COBOL", timezone: "Europe/Paris", country: "FR" } }, updateMask: { paths: ["first_name", "last_name", "profile"] } },
      as(u),
    );
    const res = await client.updateProfile(
      { user: { firstName: "IGNORED", lastName: "IGNORED", profile: { bio: "new bio", timezone: "Asia/Tokyo", preferredLanguage: "pt-br" } }, updateMask: { paths: ["profile.bio", "profile.preferred_language"] } },
      as(u),
    );
    expect(res.user).toMatchObject({ firstName: "Grace", lastName: "Hopper" });
    expect(res.user?.profile).toMatchObject({ bio: "new bio", timezone: "Europe/Paris", country: "FR", preferredLanguage: "pt-BR" });
    // Resetting with an empty value in the mask.
    const reset = await client.updateProfile({ user: { profile: { timezone: "" } }, updateMask: { paths: ["profile.timezone"] } }, as(u));
    expect(reset.user?.profile?.timezone).toBe("UTC");
  });

  it("GetMe (one statement) answers what UpdateProfile (the entities it just wrote) answers, every field set", async () => {
    const u = await createTestUser(ts.deps);
    const genres = await makeGenres(2);
    await client.setFavoriteGenres({ genreIds: genres }, as(u));
    const updated = await client.updateProfile(
      {
        user: { firstName: "Ada", lastName: "Lovelace", dateOfBirth: "1990-12-10", phoneNumber: "+33612345678", profile: { bio: "engines", avatarUrl: "https://img.example.com/a.png", preferredLanguage: "fr", timezone: "Europe/Paris", country: "FR" } },
        updateMask: { paths: ["first_name", "last_name", "date_of_birth", "phone_number", "profile"] },
      },
      as(u),
    );
    const me = await client.getMe({}, as(u));
    expect(me.user).toEqual(updated.user);
    expect(me.user).toMatchObject({ dateOfBirth: "1990-12-10", phoneNumber: "+33612345678", profile: { avatarUrl: "https://img.example.com/a.png", country: "FR" } });
    expect(me.user?.favoriteGenres.map((g) => g.id).sort()).toEqual([...genres].sort());
    expect(me.user?.createdAt?.seconds).toBeGreaterThan(0n);
  });

  it.each([
    [{ profile: { timezone: "Mars/Olympus" } }, "profile.timezone", "user.profile.timezone"],
    [{ profile: { country: "QQ" } }, "profile.country", "user.profile.country"],
    [{ profile: { preferredLanguage: "xx-1" } }, "profile.preferred_language", "user.profile.preferred_language"],
    [{ dateOfBirth: "2999-01-01" }, "date_of_birth", "user.date_of_birth"],
  ])("rejects %o naming the field", async (user, path, field) => {
    const u = await createTestUser(ts.deps);
    const err = await errOf(client.updateProfile({ user, updateMask: { paths: [path] } }, as(u)));
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toContain(field);
  });

  it("refuses mask paths outside the allowed list (username, flags)", async () => {
    const u = await createTestUser(ts.deps);
    expect((await errOf(client.updateProfile({ user: { isStaff: true }, updateMask: { paths: ["is_staff"] } }, as(u))))?.code).toBe(Code.InvalidArgument);
    expect((await client.getMe({}, as(u))).user?.isStaff).toBe(false);
  });

  it("stores the phone number encrypted and returns it to its owner", async () => {
    const u = await createTestUser(ts.deps);
    const res = await client.updateProfile({ user: { phoneNumber: "+33612345678" }, updateMask: { paths: ["phone_number"] } }, as(u));
    expect(res.user?.phoneNumber).toBe("+33612345678");
    const rows = await ts.orm.em.fork().execute<{ phone_number: string }[]>("select phone_number from users where id = ?", [u.userId]);
    expect(rows[0]!.phone_number).toMatch(/^dev:[A-Za-z0-9_-]+$/);
    expect(rows[0]!.phone_number).not.toContain("612345678");
  });

  it("replaces favourite genres and rejects unknown ones", async () => {
    const u = await createTestUser(ts.deps);
    const [g1, g2, g3] = await makeGenres(3);
    await client.setFavoriteGenres({ genreIds: [g1!, g2!] }, as(u));
    const res = await client.setFavoriteGenres({ genreIds: [g2!, g3!] }, as(u));
    expect(res.favoriteGenres.map((g) => g.id).sort()).toEqual([g2!, g3!].sort());
    const err = await errOf(client.setFavoriteGenres({ genreIds: [g1!, "999999999999"] }, as(u)));
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(/^genre_ids: unknown genre 999999999999$/);
    expect((await client.getMe({}, as(u))).user?.favoriteGenres.map((g) => g.id).sort()).toEqual([g2!, g3!].sort());
    await client.setFavoriteGenres({ genreIds: [] }, as(u));
    expect((await client.getMe({}, as(u))).user?.favoriteGenres).toEqual([]);
  });
});

describe("staff views", () => {
  it("GetUser is staff only: another user gets PERMISSION_DENIED, never the data", async () => {
    const alice = await createTestUser(ts.deps);
    const bob = await createTestUser(ts.deps);
    const err = await errOf(client.getUser({ userId: alice.userId }, as(bob)));
    expect(err?.code).toBe(Code.PermissionDenied);
    expect(JSON.stringify(err)).not.toContain(alice.username);
    expect((await client.getUser({ userId: alice.userId }, as(staff))).user?.username).toBe(alice.username);
    expect((await errOf(client.getUser({ userId: "999999999999" }, as(staff))))?.code).toBe(Code.NotFound);
  });

  it("ListUsers filters and paginates newest first", async () => {
    const tag = `lst${randomBytes(3).toString("hex")}`;
    const made: TestUser[] = [];
    for (let i = 0; i < 5; i++) made.push(await createTestUser(ts.deps, { prefix: tag }));
    await ts.orm.em.fork().execute("update users set is_premium = true where id in (?, ?)", [made[1]!.userId, made[3]!.userId]);
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await client.listUsers({ query: tag, pageSize: 2, pageToken }, as(staff));
      seen.push(...page.users.map((u) => u.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual(made.map((u) => u.userId).reverse());
    const premium = await client.listUsers({ query: tag, isPremium: true }, as(staff));
    expect(premium.users.map((u) => u.id)).toEqual([made[3]!.userId, made[1]!.userId]);
    const bad = await errOf(client.listUsers({ query: "other", pageToken: Buffer.from(`${made[0]!.userId}:x`).toString("base64url") }, as(staff)));
    expect(bad?.code).toBe(Code.InvalidArgument);
  });
});
