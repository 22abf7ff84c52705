/**
 * A staff account for the demo, so staff-only methods (CreateMovie, StartTraining, reports …) can be
 * tried at once. Local demo only: the password is fixed and printed by `npm run demo`.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import { createPasswordHasher } from "../modules/user/index.ts";

export const DEMO_STAFF = Object.freeze({ username: "demo_admin", email: "demo_admin@movierec.local", password: "demo-admin-password" });

/** Creates the staff account (with its profile and notification preferences) unless it exists. Idempotent. */
export async function ensureDemoStaff(orm: MikroORM): Promise<typeof DEMO_STAFF> {
  const em = orm.em.fork();
  const existing = await em.getConnection().execute<Array<{ id: string }>>("select id::text as id from users where username = ?", [DEMO_STAFF.username]);
  if (existing.length > 0) return DEMO_STAFF;
  // The user module's defaults (argon2id, 19 MiB, t = 2): the account logs in like any other.
  const hash = await createPasswordHasher({ memoryKib: 19_456, iterations: 2 }).hash(DEMO_STAFF.password);
  await em.transactional(async (tx) => {
    const conn = tx.getConnection();
    const [user] = await conn.execute<Array<{ id: string }>>(
      `insert into users (username, email, password, is_staff, is_superuser, is_active, date_joined, created_at, updated_at)
       values (?, ?, ?, true, false, true, now(), now(), now()) on conflict (username) do nothing returning id::text as id`,
      [DEMO_STAFF.username, DEMO_STAFF.email, hash],
    );
    if (!user) return;
    await conn.execute("insert into user_profiles (user_id, created_at, updated_at) values (?, now(), now())", [user.id]);
    await conn.execute("insert into notification_preferences (user_id, created_at, updated_at) values (?, now(), now())", [user.id]);
  });
  return DEMO_STAFF;
}
