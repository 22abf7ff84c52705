/**
 * Ids of served recommendations. The scored store is one row per (user, algorithm) list (`user_recommendation_lists`),
 * so an item of a list has no `user_recommendations` row until something refers to it. A served item's id is a
 * handle naming its list and position: `HANDLE_BASE + listId × 1000 + position`, a decimal like any row id (the API
 * says "decimal id", 19 digits at most) in a range the identity sequence never reaches. A click or a feedback
 * resolves it: the (user, movie, algorithm) row is inserted on first reference — taking the handle as its id — or
 * found when one exists (an earlier click on the same movie in another list), and the row's id is what feedback and
 * outcomes store. Ids below the base are such rows' own ids, accepted as before.
 * A list stays resolvable until the user is rescored twice (the writer keeps the list it replaced), so an item still
 * on a client's screen can be clicked after a like rescored the user.
 */
import type { SqlExecutor } from "./pg-array.ts";

/** Lowest handle: 4·10^18, far above any identity value and leaving listId up to ~5·10^15. */
export const HANDLE_BASE = 4_000_000_000_000_000_000n;
/** Positions per list in a handle (REC_TOP_N is at most 1,000). */
const SLOTS = 1000n;

/** The served id of the item at `position` (0-based) of list `listId`. */
export function handleOf(listId: string, position: number): string {
  return (HANDLE_BASE + BigInt(listId) * SLOTS + BigInt(position)).toString();
}

/** The list and position a handle names, or undefined for a plain row id. */
export function parseHandle(id: string): { listId: string; position: number } | undefined {
  const n = BigInt(id);
  if (n < HANDLE_BASE) return undefined;
  return { listId: ((n - HANDLE_BASE) / SLOTS).toString(), position: Number((n - HANDLE_BASE) % SLOTS) };
}

/**
 * The `user_recommendations` row id that `id` refers to for `userId` (inserted from the list when it is the first
 * reference), or undefined when it names nothing of this user's (another user's row or list, a list dropped since,
 * a movie deleted since).
 */
export async function resolveRecommendation(db: SqlExecutor, userId: string, id: string): Promise<string | undefined> {
  const handle = parseHandle(id);
  if (!handle) {
    const rows = await db.execute<{ id: string }[]>("select id::text as id from user_recommendations where id = ?::bigint and user_id = ?::bigint", [id, userId]);
    return rows[0]?.id;
  }
  // One statement: insert the row, or (it exists: DO NOTHING) find it. A concurrent first reference that commits
  // after this statement's snapshot makes both parts come back empty: the second try sees it.
  for (let attempt = 0; attempt < 3; attempt++) {
    const rows = await db.execute<{ id: string | null; found: boolean }[]>(
      `with l as (
         select l.user_id, l.algorithm, l.generated_at, l.movie_ids[?::int + 1] as movie_id, l.scores[?::int + 1] as score
           from user_recommendation_lists l
          where l.id = ?::bigint and l.user_id = ?::bigint and cardinality(l.movie_ids) > ?::int
            and exists (select 1 from movies m where m.id = l.movie_ids[?::int + 1])),
       ins as (
         insert into user_recommendations (id, user_id, movie_id, score, algorithm, generated_at)
         select ?::bigint, user_id, movie_id, least(1, greatest(0, score)), algorithm, generated_at from l
         on conflict do nothing returning id)
       select coalesce((select id from ins), (select r.id from user_recommendations r join l on r.user_id = l.user_id and r.movie_id = l.movie_id and r.algorithm = l.algorithm))::text as id,
              exists (select 1 from l) as found`,
      [handle.position, handle.position, handle.listId, userId, handle.position, handle.position, id],
    );
    const row = rows[0];
    if (!row?.found) return undefined;
    if (row.id) return row.id;
  }
  return undefined;
}
