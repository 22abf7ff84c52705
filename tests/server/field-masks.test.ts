/**
 * Regression tests for issue 12 item 5: field masks were undiscoverable. `"updateMask":"digest_day"` answered
 * "path names must be lowerCamelCase", `{"paths":[…]}` "cannot decode message google.protobuf.FieldMask from JSON",
 * and an unknown path listed the allowed paths in snake_case to JSON callers who cannot send them. Each case runs
 * over the real server with the client a caller would use; the README's examples are sent as written.
 */
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { NotificationService } from "../../gen/movierec/notification/v1/notification_service_pb.js";
import { UserService } from "../../gen/movierec/user/v1/user_service_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";
import { grpcClient, grpcUnary } from "../support/grpc-client.ts";
import { grpcMessageEncode } from "../../src/server/rpc-adapter.ts";

let ts: TestServer;
let user: TestUser;
beforeAll(async () => {
  ts = await startTestServer();
  user = await createTestUser(ts.deps);
});
afterAll(async () => {
  await ts?.close();
});

const PREFS = "movierec.notification.v1.NotificationService/UpdatePreferences";

async function postJson(path: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${ts.baseUrl}/${path}`, { method: "POST", headers: { "content-type": "application/json", ...user.headers }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The `-d '…'` bodies of the README's field-mask section (curl and grpcurl), verbatim. */
function readmeBodies(): string[] {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.split("### Updating with a field mask")[1]!.split("```")[1]!;
  return [...section.matchAll(/-d '(\{[^']*\})'/g)].map((m) => m[1]!);
}

describe("the JSON form (Connect JSON, curl, grpcurl -d)", () => {
  it("the README's examples (curl and grpcurl) work as written and write exactly the masked fields", async () => {
    const bodies = readmeBodies();
    expect(bodies.length).toBe(2);
    for (const body of bodies) {
      expect(body).toContain('"updateMask":"digestDay,timezone"');
      const r = await postJson(PREFS, body);
      expect(r.status).toBe(200);
      const prefs = r.json.preferences as Record<string, unknown>;
      expect(prefs.digestDay).toBe(5);
      expect(prefs.timezone).toBe("Europe/Paris");
      expect(prefs.digestTime).toBe("09:00"); // not in the mask: untouched
    }
  });

  it("a nested path in lowerCamelCase (profile.bio) works for UpdateProfile", async () => {
    const r = await postJson("movierec.user.v1.UserService/UpdateProfile", JSON.stringify({ user: { firstName: "Ada", profile: { bio: "masks" } }, updateMask: "firstName,profile.bio" }));
    expect(r.status).toBe(200);
    const u = r.json.user as { firstName: string; profile: { bio: string } };
    expect(u.firstName).toBe("Ada");
    expect(u.profile.bio).toBe("masks");
  });

  it.each([
    ["a snake_case path", '"digest_day"'],
    ["the binary shape {paths: […]}", '{"paths":["digest_day"]}'],
    ["a list of paths", '["digestDay"]'],
  ])("%s is INVALID_ARGUMENT showing the one-string lowerCamelCase form", async (_name, mask) => {
    const r = await postJson(PREFS, `{"preferences":{"digestDay":2},"updateMask":${mask}}`);
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("invalid_argument");
    const message = r.json.message as string;
    expect(message).toContain("one string of lowerCamelCase paths separated by commas");
    expect(message).toContain('e.g. "updateMask": "weeklyDigest,recommendationAlerts"');
    expect(message).toContain("digestDay, digestTime, timezone");
    expect(message).not.toContain("cannot decode");
  });

  it("an unknown path lists the allowed paths in lowerCamelCase", async () => {
    const r = await postJson(PREFS, '{"preferences":{"digestDay":2},"updateMask":"digestDay,digestHour"}');
    expect(r.json.code).toBe("invalid_argument");
    const message = r.json.message as string;
    expect(message).toContain('updateMask: unknown path "digestHour"');
    expect(message).toContain("pushNewReleases, digestDay, digestTime, timezone");
    expect(message).not.toContain("digest_day");
  });

  it("a typed Connect client in JSON gets lowerCamelCase, in binary the proto names", async () => {
    for (const [useBinaryFormat, allowed, unknown] of [
      [false, "profile.avatarUrl, profile.preferredLanguage", '"profile.nickName"'],
      [true, "profile.avatar_url, profile.preferred_language", '"profile.nick_name"'],
    ] as const) {
      const users = createClient(UserService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1", useBinaryFormat }));
      const err = await users.updateProfile({ user: {}, updateMask: { paths: ["profile.nick_name"] } }, { headers: user.headers }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.InvalidArgument);
      expect((err as ConnectError).rawMessage).toContain(allowed);
      expect((err as ConnectError).rawMessage).toContain(`unknown path ${unknown}`);
    }
  });
});

describe("the binary form (gRPC)", () => {
  const metadata = () => {
    const md = new grpc.Metadata();
    md.set("authorization", user.headers.authorization!);
    return md;
  };

  it("@grpc/grpc-js with proto-name paths writes the masked fields", async () => {
    const res = await grpcUnary(grpcClient(ts.grpcAddress), NotificationService.method.updatePreferences, { preferences: { digestDay: 3, timezone: "Asia/Tokyo" }, updateMask: { paths: ["digest_day", "timezone"] } }, metadata());
    expect(res.preferences?.digestDay).toBe(3);
    expect(res.preferences?.timezone).toBe("Asia/Tokyo");
  });

  it("@grpc/grpc-js: an unknown (camelCase) path lists the proto names, readable (no %3A left by grpc-js's decodeURI)", async () => {
    const err = (await grpcUnary(grpcClient(ts.grpcAddress), NotificationService.method.updatePreferences, { preferences: { digestDay: 3 }, updateMask: { paths: ["digestDay"] } }, metadata()).catch(
      (e: unknown) => e,
    )) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('update_mask: unknown path "digestDay"; allowed paths: weekly_digest,');
    expect(err.details).toContain("digest_day, digest_time, timezone");
    expect(err.details).toContain('"updateMask": "weeklyDigest,recommendationAlerts"'); // the grpcurl -d form
    expect(err.metadata.get("x-invalid-field")).toEqual(["update_mask"]);
  });

  it("connect-node over gRPC reads the same message (both decoders agree on the encoding)", async () => {
    const prefs = createClient(NotificationService, createGrpcTransport({ baseUrl: ts.baseUrl }));
    const err = await prefs.updatePreferences({ preferences: { digestDay: 3 }, updateMask: { paths: ["digest_hour"] } }, { headers: user.headers }).catch((e: unknown) => e);
    expect((err as ConnectError).rawMessage).toContain('update_mask: unknown path "digest_hour"; allowed paths: weekly_digest,');
  });

  it("grpc-message keeps printable ASCII as is and percent-encodes the rest and %", () => {
    expect(grpcMessageEncode('a: b, c; "d" 100% – é')).toBe('a: b, c; "d" 100%25 %E2%80%93 %C3%A9');
    expect(decodeURI(grpcMessageEncode("x: 1–7, 50%"))).toBe("x: 1–7, 50%");
  });
});
