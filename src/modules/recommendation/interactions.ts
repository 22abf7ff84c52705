/**
 * Recording, deleting and listing a user's interactions, keeping the movie counters (`view_count`, `like_count`,
 * `our_rating`) exact: every write locks the movie row first, so concurrent writers on one movie take turns and
 * each recomputes from committed data.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { InvalidInputError, NotFoundError } from "../../platform/errors.ts";
import { INTERACTION_TYPES, type InteractionSource, type InteractionType } from "./entities/index.ts";
import { requestRescore } from "./rescore-requests.ts";

/** A client time older than this is not plausible (offline apps send late, not this late). */
export const MAX_CLIENT_LAG_MS = 30 * 86_400_000;

export interface InteractionRow {
  id: string;
  userId: string;
  movieId: string;
  type: InteractionType;
  rating: number | null;
  source: InteractionSource;
  occurredAt: Date;
}

export interface RecordInput {
  userId: string;
  movieId: string;
  type: InteractionType;
  rating?: number | undefined;
  source?: InteractionSource | undefined;
  clientTime?: Date | undefined;
}

/** The time to store: the client's when it is in the past and within MAX_CLIENT_LAG_MS, else the server's. */
export function effectiveTime(clientTime: Date | undefined, now: Date): Date {
  if (!clientTime || Number.isNaN(clientTime.getTime())) return now;
  const t = clientTime.getTime();
  return t > now.getTime() || t < now.getTime() - MAX_CLIENT_LAG_MS ? now : clientTime;
}

const COLUMNS = `id::text as id, user_id::text as user_id, movie_id::text as movie_id, interaction_type, rating, source, "timestamp"`;

/** Upserts the (user, movie, type) interaction; a like removes a dislike and vice versa. */
export async function recordInteraction(em: EntityManager, input: RecordInput, now = new Date()): Promise<{ interaction: InteractionRow; created: boolean }> {
  if (!INTERACTION_TYPES.includes(input.type)) throw new InvalidInputError(`unknown interaction type ${input.type}`, "type");
  if (input.type === "rating") {
    if (input.rating === undefined || !Number.isInteger(input.rating) || input.rating < 1 || input.rating > 5) throw new InvalidInputError("rating must be an integer from 1 to 5", "rating");
  } else if (input.rating !== undefined) {
    throw new InvalidInputError("rating is only allowed with the rating type", "rating");
  }
  const at = effectiveTime(input.clientTime, now);
  return em.fork().transactional(async (tx) => {
    await lockMovie(tx, input.movieId);
    const opposite = input.type === "like" ? "dislike" : input.type === "dislike" ? "like" : null;
    if (opposite) {
      const removed = await tx.execute<{ id: string }[]>(
        "delete from user_movie_interactions where user_id = ?::bigint and movie_id = ?::bigint and interaction_type = ? returning id",
        [input.userId, input.movieId, opposite],
      );
      if (removed.length > 0 && opposite === "like") await tx.execute("update movies set like_count = greatest(like_count - 1, 0) where id = ?::bigint", [input.movieId]);
    }
    const rows = await tx.execute<(RawRow & { created: boolean })[]>(
      `insert into user_movie_interactions (user_id, movie_id, interaction_type, rating, source, "timestamp")
       values (?::bigint, ?::bigint, ?, ?, ?, ?)
       on conflict (user_id, movie_id, interaction_type)
       do update set rating = excluded.rating, source = excluded.source, "timestamp" = excluded."timestamp"
       returning ${COLUMNS}, (xmax = 0) as created`,
      [input.userId, input.movieId, input.type, input.rating ?? null, input.source ?? "web", at],
    );
    const row = rows[0];
    if (row.created && input.type === "view") await tx.execute("update movies set view_count = view_count + 1 where id = ?::bigint", [input.movieId]);
    if (row.created && input.type === "like") await tx.execute("update movies set like_count = like_count + 1 where id = ?::bigint", [input.movieId]);
    if (input.type === "rating") await refreshOurRating(tx, input.movieId);
    // The rescoring outbox row commits with the interaction: a rescoring Redis loses is found by the sweep.
    await requestRescore(tx, input.userId);
    return { interaction: toRow(row), created: row.created };
  });
}

/** Deletes one of the user's interactions, by id or by (movie, type); false when there was none. */
export async function deleteInteraction(em: EntityManager, userId: string, target: { id: string } | { movieId: string; type: InteractionType }): Promise<boolean> {
  return em.fork().transactional(async (tx) => {
    const found =
      "id" in target
        ? await tx.execute<{ movie_id: string }[]>("select movie_id::text as movie_id from user_movie_interactions where id = ?::bigint and user_id = ?::bigint", [target.id, userId])
        : [{ movie_id: target.movieId }];
    if (found.length === 0) return false;
    const movieId = found[0].movie_id;
    await lockMovie(tx, movieId, false);
    const removed =
      "id" in target
        ? await tx.execute<{ interaction_type: InteractionType }[]>("delete from user_movie_interactions where id = ?::bigint and user_id = ?::bigint returning interaction_type", [target.id, userId])
        : await tx.execute<{ interaction_type: InteractionType }[]>(
            "delete from user_movie_interactions where user_id = ?::bigint and movie_id = ?::bigint and interaction_type = ? returning interaction_type",
            [userId, target.movieId, target.type],
          );
    if (removed.length === 0) return false;
    const type = removed[0].interaction_type;
    // A removed view keeps counting: view_count counts views that happened, not current rows.
    if (type === "like") await tx.execute("update movies set like_count = greatest(like_count - 1, 0) where id = ?::bigint", [movieId]);
    if (type === "rating") await refreshOurRating(tx, movieId);
    await requestRescore(tx, userId);
    return true;
  });
}

/** The user's interactions, newest first, keyset-paginated on (timestamp, id). */
export async function listInteractions(
  em: EntityManager,
  userId: string,
  opts: { type?: InteractionType | undefined; limit: number; after?: { at: Date; id: string } | undefined },
): Promise<{ rows: InteractionRow[]; next?: { at: Date; id: string } }> {
  const params: unknown[] = [userId];
  let where = "user_id = ?::bigint";
  if (opts.type) {
    where += " and interaction_type = ?";
    params.push(opts.type);
  }
  if (opts.after) {
    where += ` and ("timestamp", id) < (?, ?::bigint)`;
    params.push(opts.after.at, opts.after.id);
  }
  params.push(opts.limit + 1);
  const raw = await em.fork().execute<RawRow[]>(`select ${COLUMNS} from user_movie_interactions where ${where} order by "timestamp" desc, id desc limit ?`, params);
  const rows = raw.slice(0, opts.limit).map(toRow);
  const last = rows[rows.length - 1];
  return raw.length > opts.limit && last ? { rows, next: { at: last.occurredAt, id: last.id } } : { rows };
}

/** Locks the movie row for the rest of the transaction (NotFound when it does not exist or is hidden). */
async function lockMovie(tx: EntityManager, movieId: string, activeOnly = true): Promise<void> {
  const rows = await tx.execute(`select id from movies where id = ?::bigint${activeOnly ? " and is_active" : ""} for update`, [movieId]);
  if (rows.length === 0) throw new NotFoundError("movie", movieId);
}

/** our_rating = mean user rating (1–5 stars) on the 0–10 scale, null without ratings. */
async function refreshOurRating(tx: EntityManager, movieId: string): Promise<void> {
  await tx.execute(
    `update movies set our_rating = (select round(avg(rating) * 2, 1) from user_movie_interactions where movie_id = ?::bigint and interaction_type = 'rating') where id = ?::bigint`,
    [movieId, movieId],
  );
}

interface RawRow {
  id: string;
  user_id: string;
  movie_id: string;
  interaction_type: InteractionType;
  rating: number | null;
  source: InteractionSource;
  timestamp: Date | string;
}

function toRow(r: RawRow): InteractionRow {
  return { id: r.id, userId: r.user_id, movieId: r.movie_id, type: r.interaction_type, rating: r.rating, source: r.source, occurredAt: new Date(r.timestamp) };
}
