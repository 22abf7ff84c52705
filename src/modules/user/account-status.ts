/**
 * Staff deactivation and reactivation of accounts. Deactivating ends every session in the same transaction (the
 * authenticator checks sessions and `is_active` on every call, so access stops at once) and is audited there too.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import { NotFoundError } from "../../platform/errors.ts";
import { recordAudit } from "../audit/index.ts";
import type { SessionStore } from "./session-store.ts";

export function createAccountStatus(deps: { orm: MikroORM; sessions: SessionStore }) {
  return {
    /** Sets `is_active`; returns false when the account already had that state (nothing changes, nothing is audited). */
    async setActive(userId: string, active: boolean): Promise<boolean> {
      const changed = await deps.orm.em.fork().transactional(async (tx) => {
        const rows = await tx.execute<{ is_active: boolean }[]>("select is_active from users where id = ?::bigint for update", [userId]);
        if (!rows[0]) throw new NotFoundError("user", userId);
        if (rows[0].is_active === active) return false;
        await tx.execute("update users set is_active = ?, updated_at = now() where id = ?::bigint", [active, userId]);
        const revoked = active ? 0 : await deps.sessions.revoke(tx, userId, {}, "deactivated");
        await recordAudit(tx, {
          action: active ? "user.reactivate" : "user.deactivate",
          table: "users",
          operation: "UPDATE",
          recordId: userId,
          before: { is_active: !active },
          after: { is_active: active, sessions_revoked: revoked },
        });
        return true;
      });
      // After the commit: this process's session cache forgets the user (a check in between saw the old state).
      if (changed) deps.sessions.revoked(userId);
      return changed;
    },
  };
}

export type AccountStatus = ReturnType<typeof createAccountStatus>;
