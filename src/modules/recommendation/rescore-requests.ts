/**
 * The rescoring outbox (migration 0011): what must not be lost when Redis is. A write that changes a user's
 * recommendations upserts the user's row in its own transaction; the debounced job (rescore-queue.ts) is the fast
 * path, the sweep below the safety net for a job that never made it to Redis (Redis down, the process died
 * before enqueueing) or that Redis lost (restarted empty while the job waited out its debounce). Scoring a user
 * deletes the row inside the scoring transaction, before it reads the history, so a write that commits after the
 * delete leaves a fresh row behind and is never folded in silently.
 */
import { pgArray, type SqlExecutor } from "./pg-array.ts";

type Executor = SqlExecutor;

/** Records that `userId` needs a rescoring; call inside the transaction that made the change. */
export async function requestRescore(tx: Executor, userId: string): Promise<void> {
  await tx.execute(
    "insert into rescore_requests (user_id) values (?::bigint) on conflict (user_id) do update set requested_at = excluded.requested_at",
    [userId],
  );
}

/** Marks these users as being scored now; call in the scoring transaction before their histories are read. */
export async function clearRescoreRequests(tx: Executor, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) return;
  await tx.execute("delete from rescore_requests where user_id = any(?::bigint[])", [pgArray(userIds)]);
}

/** Users whose request is older than `olderThanMs` (their debounced job should have run by now), oldest first. */
export async function overdueRescores(em: Executor, olderThanMs: number, limit = 1000): Promise<string[]> {
  const rows = await em.execute<{ user_id: string }[]>(
    "select user_id::text as user_id from rescore_requests where requested_at < now() - ? * interval '1 millisecond' order by requested_at limit ?",
    [olderThanMs, limit],
  );
  return rows.map((r) => r.user_id);
}
