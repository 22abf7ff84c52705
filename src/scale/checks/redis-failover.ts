/**
 * A Redis master killed mid-run. A journey loop runs against both APIs (RecordInteraction on one, GetMovie and
 * GetRecommendations on the other, alternating), so the worker processes rescore the user all along; then the master
 * holding `slotKey`'s slot (the scoring queue's) is SIGKILLed. Measured from the kill: its replica promoted (the cluster says
 * `cluster_state:ok` with another master for the slot), the journey answering again (the first iteration that
 * succeeds after the last failed one), a worker rescoring again (the first `rescore-user` job started after the kill
 * and finished). Checked: the journey and the rescoring come back within the bound, and every interaction the API
 * acknowledged — before, during or after the failover — is in ListInteractions.
 */
import { InteractionType } from "../../../gen/movierec/recommendation/v1/recommendation_pb.js";
import type { RedisClusterNodes } from "../../platform/dev-infra-redis-cluster.ts";
import { waitUntil } from "../../platform/wait-until.ts";
import { as, type Api } from "../api.ts";
import { check } from "../report.ts";
import type { AppNode } from "../topology.ts";
import type { JourneyUser } from "./journey.ts";

export interface FailoverResult {
  killedPort: number;
  promotedPort: number;
  promotedMs: number;
  /** Journey iterations that failed after the kill. */
  failedIterations: number;
  journeyMs: number;
  rescoringMs: number;
  acknowledged: number;
}

interface Iteration {
  start: number;
  end: number;
  ok: boolean;
  error?: string;
}

export async function masterKilledMidRun(apis: readonly [Api, Api], user: JourneyUser, cluster: RedisClusterNodes, slotKey: string, workers: readonly AppNode[], timeoutMs: number): Promise<FailoverResult> {
  const { movies } = await apis[0].catalog.listMovies({ pageSize: 100 });
  check(movies.length > 10, `ListMovies: ${movies.length} movies`);
  const iterations: Iteration[] = [];
  const acknowledged = new Set<string>();
  let stop = false;
  const loop = (async () => {
    for (let i = 0; !stop; i++) {
      const [a, b] = i % 2 === 0 ? apis : [apis[1], apis[0]];
      const movieId = movies[i % movies.length]!.id;
      const it: Iteration = { start: Date.now(), end: 0, ok: false };
      try {
        await a.recommendation.recordInteraction({ movieId, type: InteractionType.LIKE }, as(user.token));
        acknowledged.add(movieId);
        await b.catalog.getMovie({ lookup: { case: "id", value: movieId } });
        await b.recommendation.getRecommendations({ limit: 10 }, as(user.token));
        it.ok = true;
      } catch (e) {
        it.error = (e as Error).message;
        await new Promise((r) => setTimeout(r, 100));
      }
      it.end = Date.now();
      iterations.push(it);
    }
  })();
  try {
    await waitUntil("3 journey iterations before the kill", async () => (iterations.filter((i) => i.ok).length >= 3 ? true : undefined), 60_000, 50);
    const killedPort = await cluster.masterOf(slotKey);
    const killedAt = Date.now();
    await cluster.kill(killedPort);
    const promotedPort = await cluster.failedOver(slotKey, killedPort, timeoutMs);
    const promotedMs = Date.now() - killedAt;
    // Answering again: an iteration that succeeded after the last one that failed, and began after the promotion.
    const again = await waitUntil("the journey answering after the failover", async () => {
      const after = iterations.filter((i) => i.start >= killedAt);
      const lastFailed = after.filter((i) => !i.ok).at(-1);
      const ok = after.find((i) => i.ok && i.start > (lastFailed?.end ?? killedAt));
      return ok && iterations.some((i) => i.ok && i.start > killedAt + promotedMs) ? ok : undefined;
    }, timeoutMs, 100, () => iterations.slice(-3).map((i) => JSON.stringify(i)).join("\n"));
    const rescored = await waitUntil("a worker rescoring after the failover", async () => {
      const done = workers.flatMap((w) => w.proc.lines).filter((l) => l.msg === "job done" && l.job === "rescore-user" && typeof l.time === "number" && (l.time as number) - Number(l.durationMs ?? 0) >= killedAt);
      return done.length > 0 ? Math.min(...done.map((l) => l.time as number)) : undefined;
    }, timeoutMs, 100, () => workers.map((w) => `${w.name}: ${w.proc.lines.slice(-4).map((l) => JSON.stringify(l)).join("\n")}`).join("\n"));
    stop = true;
    await loop;
    const failed = iterations.filter((i) => i.start >= killedAt && !i.ok);
    // Nothing acknowledged is lost: every like the API answered OK is stored.
    const stored = new Set<string>();
    for (let pageToken = ""; ; ) {
      const page = await apis[1].recommendation.listInteractions({ pageSize: 100, pageToken }, as(user.token));
      for (const i of page.interactions) stored.add(i.movieId);
      if (!(pageToken = page.nextPageToken)) break;
    }
    const lost = [...acknowledged].filter((id) => !stored.has(id));
    check(lost.length === 0, `${lost.length} acknowledged interactions missing from ListInteractions after the failover (movies ${lost.slice(0, 5).join(", ")})`);
    return { killedPort, promotedPort, promotedMs, failedIterations: failed.length, journeyMs: again.end - killedAt, rescoringMs: rescored - killedAt, acknowledged: acknowledged.size };
  } finally {
    stop = true;
    await loop;
  }
}
