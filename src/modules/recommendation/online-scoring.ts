/**
 * The online path for new and light users: the batch and the debounced rescoring keep most users' lists fresh, but a
 * user who just liked their first movies should not wait for a queue. On a read whose cached list is gone (every
 * write drops it) this checks whether the user's list predates their latest interaction and, for a user with few
 * interactions (cheap to fold in), scores them right there with the published model — the same `rescoreUser` the
 * worker runs, so the lists and "Because you liked …" reasons are the ones a rescoring would write.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Redis } from "ioredis";
import type { AlgorithmName } from "./algorithms/recommender.ts";
import type { ModelStore } from "./model-store.ts";
import { rescoreUser, type ScoringOptions } from "./scoring.ts";
import { bounded, listKey } from "./serving-cache.ts";

/** Users with more interactions than this wait for the worker (their fold-in costs more, and their lists exist). */
export const ONLINE_MAX_INTERACTIONS = 200;

/** Scores the user now when their list is missing or older than their latest interaction; true when it did. */
export async function scoreOnReadIfStale(
  deps: { orm: MikroORM; redis: Redis; store: ModelStore; options: ScoringOptions },
  userId: string,
  algorithm: AlgorithmName,
): Promise<boolean> {
  // A cached list was built after the last write (writes drop it): nothing to do, and no query.
  if ((await bounded(deps.redis.exists(listKey(userId, algorithm)), 0)) > 0) return false;
  const [state] = await deps.orm.em.fork().execute<{ last: Date | null; n: number; generated: Date | null }[]>(
    `select (select max("timestamp") from user_movie_interactions where user_id = ?::bigint) as last,
            (select count(*) from (select 1 from user_movie_interactions where user_id = ?::bigint limit ?) t)::int as n,
            (select max(generated_at) from user_recommendation_lists where user_id = ?::bigint and algorithm = ?) as generated`,
    [userId, userId, ONLINE_MAX_INTERACTIONS + 1, userId, algorithm],
  );
  if (!state?.last || state.n > ONLINE_MAX_INTERACTIONS) return false;
  if (state.generated && new Date(state.generated) >= new Date(state.last)) return false;
  // Bounded like every serving-path Redis call; a model still loading keeps loading and is cached for the next read.
  const stored = await bounded(deps.store.current(), null);
  if (!stored) return false; // no model yet: the cold-start list serves meanwhile
  await rescoreUser(deps.orm, deps.redis, stored, userId, deps.options);
  return true;
}
