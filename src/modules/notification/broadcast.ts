/**
 * A staff send to every user a filter matches, through the same outbox as every other notification: the matching
 * ids are read first (at most `maxRecipients`; more is refused before anything is queued, since cutting the set at
 * an arbitrary id would be a surprise), then queued in batches of `batchSize` users, one outbox transaction each.
 * The idempotency key holds per user (`<key>:<user>`), so a retried call — after a timeout, say — queues only for
 * the users an earlier call did not reach.
 */
import type { EntityManager, MikroORM } from "@mikro-orm/postgresql";
import { PreconditionError } from "../../platform/errors.ts";
import { recordAudit } from "../audit/index.ts";
import { idArray } from "./notification-view.ts";
import type { Outbox, QueueRequest } from "./outbox.ts";
import { PREFERENCE_FLAGS, type PreferenceFlag } from "./preferences.ts";
import type { Template } from "./templates.ts";

export interface RecipientFilter {
  /** Signed in within this many days; 0 for any. */
  activeWithinDays: number;
  premium?: boolean | undefined;
  /** Any of these favourite genres; empty for any. */
  favoriteGenreIds: readonly string[];
  joinedAfter?: Date | undefined;
  joinedBefore?: Date | undefined;
  /** All of these switches on (a user without a preferences row has the design's defaults). */
  preferencesOn: readonly PreferenceFlag[];
}

export interface BroadcastResult {
  matched: number;
  queued: number;
  skipped: number;
  duplicates: number;
}

/** Switches that are on for a user who never saved preferences (the column defaults of the design). */
const DEFAULT_ON: ReadonlySet<PreferenceFlag> = new Set(["weekly_digest", "recommendation_alerts", "push_recommendations"]);

/** The WHERE clause and parameters of a filter over `users u` left-joined to `notification_preferences p`. */
export function filterSql(f: RecipientFilter): { where: string[]; params: unknown[] } {
  const where = ["u.is_active"];
  const params: unknown[] = [];
  if (f.activeWithinDays > 0) (where.push("u.last_login > now() - make_interval(days => ?)"), params.push(f.activeWithinDays));
  if (f.premium !== undefined) (where.push("u.is_premium = ?"), params.push(f.premium));
  if (f.joinedAfter) (where.push("u.date_joined >= ?"), params.push(f.joinedAfter));
  if (f.joinedBefore) (where.push("u.date_joined < ?"), params.push(f.joinedBefore));
  if (f.favoriteGenreIds.length > 0) {
    where.push(
      `exists (select 1 from user_profiles up join user_favorite_genres fg on fg.userprofile_id = up.id
                where up.user_id = u.id and fg.genre_id = any(?::bigint[]))`,
    );
    params.push(idArray(f.favoriteGenreIds));
  }
  for (const flag of f.preferencesOn) {
    // The flag names are a closed list (validated by the contract and here), so they may be spliced in as columns.
    if (!(flag in PREFERENCE_FLAGS)) throw new Error(`unknown preference ${flag}`);
    where.push(`coalesce(p.${flag}, ${DEFAULT_ON.has(flag)})`);
  }
  return { where, params };
}

/** The filter as audited (ids, flags and dates only). */
function auditFilter(f: RecipientFilter): Record<string, unknown> {
  return {
    active_within_days: f.activeWithinDays,
    premium: f.premium ?? null,
    favorite_genre_ids: [...f.favoriteGenreIds],
    joined_after: f.joinedAfter?.toISOString() ?? null,
    joined_before: f.joinedBefore?.toISOString() ?? null,
    preferences_on: [...f.preferencesOn],
  };
}

export function createBroadcast(deps: { orm: MikroORM; outbox: Outbox; maxRecipients: number; batchSize?: number }) {
  const batchSize = deps.batchSize ?? 500;

  /** Ids of the users the filter matches, in id order; at most `limit`. */
  async function matching(f: RecipientFilter, limit: number): Promise<string[]> {
    const { where, params } = filterSql(f);
    const rows = await deps.orm.em.fork().execute<{ id: string }[]>(
      `select u.id::text as id from users u left join notification_preferences p on p.user_id = u.id
        where ${where.join(" and ")} order by u.id limit ?`,
      [...params, limit],
    );
    return rows.map((r) => r.id);
  }

  return {
    matching,
    /** Queues `template` for every matching user; refuses (PreconditionError) when more than the cap match. */
    async send(req: { key: string; filter: RecipientFilter; template: Template; data: Record<string, unknown>; ignorePreferences: boolean }): Promise<BroadcastResult> {
      const users = await matching(req.filter, deps.maxRecipients + 1);
      if (users.length > deps.maxRecipients) {
        throw new PreconditionError(`the filter matches more than ${deps.maxRecipients} users; narrow it`);
      }
      const result: BroadcastResult = { matched: users.length, queued: 0, skipped: 0, duplicates: 0 };
      // One audit row per send, in the transaction of the first batch that queues anything: a retry that only finds
      // duplicates changes nothing and writes none.
      let audited = false;
      const inTransaction = async (tx: EntityManager, queued: number) => {
        if (audited || queued === 0) return;
        await recordAudit(tx, {
          action: "notification.send_filtered",
          table: "notification_requests",
          operation: "INSERT",
          recordId: req.key.slice(0, 64),
          after: { template_id: req.template.id, matched_users: users.length, ignore_preferences: req.ignorePreferences, filter: auditFilter(req.filter) },
        });
        audited = true;
      };
      for (let i = 0; i < users.length; i += batchSize) {
        const requests: QueueRequest[] = users.slice(i, i + batchSize).map((userId) => ({
          idempotencyKey: `${req.key}:${userId}`,
          userId,
          kind: "manual",
          template: req.template,
          data: req.data,
          ignorePreferences: req.ignorePreferences,
        }));
        for (const r of (await deps.outbox.queue(requests, { inTransaction })).values()) {
          if (r.duplicate) result.duplicates++;
          else if (r.logs.length > 0) result.queued++;
          else result.skipped++;
        }
      }
      return result;
    },
  };
}

export type Broadcast = ReturnType<typeof createBroadcast>;
