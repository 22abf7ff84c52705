/**
 * Reads on the replica, then the replica stopped. First the lag-tolerant reads of both API processes must be
 * reaching the replica (its pg_stat_activity shows sessions named movierec-api-a and movierec-api-b); then the
 * replica is stopped and, through both APIs, an uncached GetMovie (its row read from the primary to compare),
 * ListMovies with a filter nobody cached, GetTrendingMovies and a user's GetRecommendations still answer.
 */
import type { MikroORM } from "@mikro-orm/postgresql";
import type { ReplicatedPostgres } from "../../platform/dev-infra-replicated-postgres.ts";
import { as, type Api } from "../api.ts";
import { check, msSince } from "../report.ts";
import type { JourneyUser } from "./journey.ts";

/** Reads every lag-tolerant path once through `api`; `seed` varies the filters so no cache answers. */
async function lagTolerantReads(api: Api, orm: MikroORM, user: JourneyUser, seed: number): Promise<void> {
  const [row] = await orm.em.fork().execute<{ id: string; title: string }[]>("select id::text as id, title from movies order by id offset ? limit 1", [seed]);
  const got = await api.catalog.getMovie({ lookup: { case: "id", value: row!.id } });
  check(got.movie?.title === row!.title, `GetMovie ${row!.id} on ${api.name}: title ${JSON.stringify(got.movie?.title)}, the primary has ${JSON.stringify(row!.title)}`);
  const listed = await api.catalog.listMovies({ pageSize: 3, releaseYearMin: 1900 + seed });
  check(listed.movies.every((m) => m.releaseDate === "" || Number(m.releaseDate.slice(0, 4)) >= 1900 + seed), `ListMovies on ${api.name} ignored its filter`);
  const trending = await api.recommendation.getTrendingMovies({ limit: 5 });
  check(trending.movies.length > 0, `GetTrendingMovies on ${api.name}: empty`);
  const recs = await api.recommendation.getRecommendations({ limit: 5 }, as(user.token));
  check(recs.recommendations.length > 0, `GetRecommendations on ${api.name}: empty`);
}

export interface ReplicaResult {
  /** application_name of the sessions seen on the replica before it stopped. */
  replicaSessions: string[];
  /** Per API: from the replica's stop to all its reads answered. */
  answeredMs: Record<string, number>;
}

export async function replicaStoppedReadsGoOn(apis: readonly Api[], pg: ReplicatedPostgres, orm: MikroORM, user: JourneyUser): Promise<ReplicaResult> {
  for (const [k, api] of apis.entries()) await lagTolerantReads(api, orm, user, 10 + k);
  const sessions = await pg.replicaQuery<{ name: string }>("select distinct application_name as name from pg_stat_activity where datname = 'movierec' order by 1");
  const replicaSessions = sessions.map((s) => s.name);
  for (const api of apis) check(replicaSessions.includes(`movierec-${api.name}`), `no session of ${api.name} on the replica (sessions: ${replicaSessions.join(", ") || "none"}): its reads do not reach the replica`);
  await pg.stopReplica();
  const down = await pg.replicaQuery("select 1").then(() => false, () => true);
  check(down, "the replica still answers after it was stopped");
  const t0 = performance.now();
  const answeredMs: Record<string, number> = {};
  for (const [k, api] of apis.entries()) {
    await lagTolerantReads(api, orm, user, 20 + k);
    answeredMs[api.name] = msSince(t0);
  }
  return { replicaSessions, answeredMs };
}
