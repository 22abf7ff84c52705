/**
 * "Weekly digests find due users through the (digest_day, digest_time) index" (README, review of 2026-11-30, item 22):
 * the digest scheduler's own query (digests.ts, `dueUsersSql`), EXPLAINed on a database of this file's own with 20,000
 * users whose digest slots spread over the week (every day, every quarter hour), analysed as PostgreSQL would be.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MikroORM } from "@mikro-orm/postgresql";
import { openOrm } from "../../src/platform/orm.ts";
import { dueUsersSql } from "../../src/modules/notification/digests.ts";
import type { TestDatabase } from "../support/database.ts";
import { createMigratedDatabase } from "../faults/support/own-database.ts";

let db: TestDatabase;
let orm: MikroORM;
beforeAll(async () => {
  db = await createMigratedDatabase();
  orm = await openOrm(db.url, { poolMax: 2 });
  const em = orm.em.fork();
  await em.execute(
    `insert into users (username, email, password) select 'dg_' || g, 'dg_' || g || '@example.test', 'x' from generate_series(1, 20000) g`,
  );
  await em.execute(
    `insert into notification_preferences (user_id, digest_day, digest_time, timezone, weekly_digest)
     select u.id, 1 + (u.id % 7), make_time(((u.id / 7) % 24)::int, (15 * ((u.id / 168) % 4))::int, 0), 'UTC', true
       from users u where u.username like 'dg\\_%'
     on conflict (user_id) do update set digest_day = excluded.digest_day, digest_time = excluded.digest_time, timezone = 'UTC', weekly_digest = true`,
  );
  await em.execute("analyze users");
  await em.execute("analyze notification_preferences");
}, 120_000);
afterAll(async () => {
  await orm?.close(true);
  await db?.drop();
});

describe("digest scheduler query", () => {
  it("reads notification_preferences through idx_notification_prefs_digest for a one-minute window", async () => {
    const window = { day: 1, afterMinute: 9 * 60 - 1, untilMinute: 9 * 60 };
    const { sql, params } = dueUsersSql(window, ["UTC"], "0", 500);
    const plan = await orm.em.fork().execute<{ "QUERY PLAN": string }[]>(`explain ${sql}`, params);
    const text = plan.map((r) => r["QUERY PLAN"]).join("\n");
    expect(text, text).toContain("idx_notification_prefs_digest");
    expect(text, text).not.toMatch(/Seq Scan on notification_preferences/);
    // And it finds the users of that slot.
    const due = await orm.em.fork().execute<{ user_id: string }[]>(sql, params);
    expect(due.length).toBeGreaterThan(0);
  });
});
