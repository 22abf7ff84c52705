/**
 * Issue 11, row 10: rendering a template is bounded (template-engine.ts RENDER_LIMITS), in the staff preview and on
 * the delivery path alike.
 *
 * What must hold:
 * - PreviewTemplate with nested sections over 50-item lists (four and five levels: millions of inner renders) and a
 *   section repeating a large value is answered INVALID_ARGUMENT naming the limit, quickly, while /healthz keeps
 *   answering;
 * - a normal template (a digest-like list of 50 movies with nested genres) still renders in full;
 * - queuing a notification whose data blows the budget fails the same way instead of blocking the process.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { NotificationService } from "../../gen/movierec/notification/v1/notification_service_pb.js";
import { RENDER_LIMITS, RenderLimitError, renderTemplate } from "../../src/modules/notification/template-engine.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createTestUser, type TestUser } from "../auth/test-users.ts";
import { makeTemplate, moduleFor, uniq } from "./helpers.ts";

let ts: TestServer;
let staff: TestUser;

beforeAll(async () => {
  ts = await startTestServer();
  staff = await createTestUser(ts.deps, { staff: true });
});
afterAll(async () => {
  await ts?.close();
});

const items = Array.from({ length: 50 }, (_, i) => ({ n: i }));
/** `depth` sections nested over the lists a, b, c…, each of 50 items, around `{{n}}`. */
const nested = (depth: number) => {
  const names = ["a", "b", "c", "d", "e"].slice(0, depth);
  return names.map((n) => `{{#${n}}}`).join("") + "x{{n}}" + [...names].reverse().map((n) => `{{/${n}}}`).join("");
};

describe("template render limits", () => {
  it("PreviewTemplate rejects nested sections and oversized output quickly, naming the limit, and /healthz keeps answering", async () => {
    const client = createClient(NotificationService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
    const preview = (html: string, sampleData: Record<string, unknown>) =>
      client.previewTemplate({ source: { case: "content", value: { subject: "s", htmlContent: html, textContent: "t" } }, sampleData: sampleData as never }, { headers: staff.headers });
    const attacks: [string, string, Record<string, unknown>, RegExp][] = [
      ["four nested sections × 50", nested(4), { a: items, b: items, c: items, d: items }, /step limit/],
      ["five nested sections × 50", nested(5), { a: items, b: items, c: items, d: items, e: items }, /step limit/],
      ["a 100,000-character value repeated 50 times", "{{#a}}{{{big}}}{{/a}}", { a: items, big: "y".repeat(100_000) }, /output limit/],
    ];
    for (const [what, html, data, limit] of attacks) {
      // /healthz polled while the attack is rendered: its worst answer time says whether the event loop was blocked.
      let worstHealthzMs = 0;
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const t = performance.now();
          expect((await fetch(`${ts.baseUrl}/healthz`)).status).toBe(200);
          worstHealthzMs = Math.max(worstHealthzMs, performance.now() - t);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const started = performance.now();
      const outcome = await preview(html, data).then(() => "rendered", (e: unknown) => e);
      const ms = Math.round(performance.now() - started);
      polling = false;
      await poller;
      expect(outcome, what).toBeInstanceOf(ConnectError);
      expect(Code[(outcome as ConnectError).code], what).toBe("InvalidArgument");
      expect((outcome as ConnectError).rawMessage, what).toMatch(limit);
      // Generous for a loaded CI machine; unbounded, the four levels took 1.75 s and the five ≈ 90 s.
      expect(ms, `${what}: answered after ${ms} ms`).toBeLessThan(1000);
      expect(worstHealthzMs, `${what}: /healthz took ${Math.round(worstHealthzMs)} ms`).toBeLessThan(1000);
    }
  }, 60_000);

  it("still renders normal templates in full: a digest of 50 movies with their genres", async () => {
    const client = createClient(NotificationService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }));
    const movies = Array.from({ length: 50 }, (_, i) => ({ title: `Movie ${i}`, year: 1990 + i, genres: [{ name: "Drama" }, { name: "Comedy" }, { name: "Crime" }] }));
    const html = "<h1>{{user.first_name}}</h1><ul>{{#movies}}<li>{{title}} ({{year}}): {{#genres}}{{name}} {{/genres}}</li>{{/movies}}</ul>";
    const res = await client.previewTemplate(
      { source: { case: "content", value: { subject: "Picks for {{user.first_name}}", htmlContent: html, textContent: "{{#movies}}{{title}}\n{{/movies}}" } }, sampleData: { user: { first_name: "Ana" }, movies } as never },
      { headers: staff.headers },
    );
    expect(res.subject).toBe("Picks for Ana");
    expect(res.html.match(/<li>/g)).toHaveLength(50);
    expect(res.html).toContain("<li>Movie 49 (2039): Drama Comedy Crime </li>");
    expect(res.text.split("\n").filter(Boolean)).toHaveLength(50);
    // The same engine, directly: right under the output limit renders; one character over does not.
    const under = "z".repeat(RENDER_LIMITS.outputChars - 1);
    expect(renderTemplate({ subject: "", html: "{{{v}}}", text: "" }, { v: under }).html).toHaveLength(under.length);
    expect(() => renderTemplate({ subject: "", html: "{{{v}}}", text: "{{{v}}}" }, { v: under })).toThrow(RenderLimitError);
  });

  it("bounds the delivery path too: queuing a notification whose render blows the budget fails with the limit, the process unblocked", async () => {
    const m = moduleFor(ts.deps);
    const alice = await createTestUser(ts.deps);
    const template = await makeTemplate(m, "email_recommendation", { subject: "Hi", html: nested(4), text: "t" });
    const started = performance.now();
    const outcome = await m.outbox
      .queue([{ idempotencyKey: `limits-${uniq()}`, userId: alice.userId, kind: "manual", template, data: { a: items, b: items, c: items, d: items }, ignorePreferences: true }])
      .then(() => "queued", (e: unknown) => e);
    expect(outcome).toBeInstanceOf(RenderLimitError);
    expect((outcome as RenderLimitError).limit).toBe("steps");
    expect(performance.now() - started).toBeLessThan(1000);
    const rows = await ts.orm.em.fork().execute<{ n: number }[]>("select count(*)::int as n from notification_logs where user_id = ?", [alice.userId]);
    expect(rows[0]!.n).toBe(0); // nothing half-queued
  });
});
