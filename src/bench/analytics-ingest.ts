/**
 * `npm run bench:ingest`: events per second through TrackEvents (one gRPC client stream, the real server, COPY into
 * the partitioned user_activity_logs with all its indexes) next to a plain COPY of the same rows into the same table
 * (the physical limit), as a ratio; then the daily aggregation time of the day the streamed events fell on, and the
 * end-to-end proof: GetTopMovies over gRPC (analytics.read) for that day must account for every streamed view.
 * The COPY rows are dated another day of the same month (same partition, same indexes), so the aggregated day holds
 * exactly the streamed events and the check is exact.
 * Server and client run in this one process (2 cores are shared with PostgreSQL), so the ratio is a lower bound.
 * Bounded: a fixed number of events, loopback only, a throw-away database dropped at the end.
 * Options (env): BENCH_EVENTS (default 200000), BENCH_EVENTS_PER_MESSAGE (default 500; 1 = one event per stream message).
 */
import { randomBytes } from "node:crypto";
import { cpus, loadavg } from "node:os";
import pg from "pg";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ActionType, EventSchema, Source, type Event } from "../../gen/movierec/analytics/v1/analytics_pb.js";
import { AnalyticsService, TopMoviesMetric } from "../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { loadConfig } from "../platform/config.ts";
import { createLogger } from "../platform/logger.ts";
import { aggregateDay, daysBetween, utcDay } from "../modules/analytics/index.ts";
import { activityCopyText, copyText, ACTIVITY_COLUMNS } from "../modules/analytics/event-store.ts";
import type { ActivityRow } from "../modules/analytics/event-input.ts";
import { closeAppDeps, dependencyProbes, openAppDeps } from "../server/app-deps.ts";
import { buildAuthenticator, buildImpls } from "../server/impls.ts";
import { startServer } from "../server/server.ts";
import { openBenchDatabase } from "./bench-database.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const WARMUP = 20_000;
/** Events per stream message (BENCH_EVENTS_PER_MESSAGE): 1 = one `event` per message, more = the `events` field. */
const PER_MESSAGE = Math.max(1, Number(process.env.BENCH_EVENTS_PER_MESSAGE ?? 500));
/** GetTopMovies lists at most 100 movies: with 100 the whole day is visible and the views can be summed exactly. */
const MOVIES = 100;
/**
 * Skewed popularity, so the top list is a ranking: movie j gets (j + 1) / 5050 of the events (a triangular law), in
 * runs of 5 consecutive events (one of each ACTIONS entry), so its views are exactly proportional too.
 */
const SKEW: number[] = [];
for (let j = 0; j < MOVIES; j++) for (let k = 0; k <= j; k++) SKEW.push(j);
const ACTIONS = [ActionType.MOVIE_VIEW, ActionType.MOVIE_VIEW, ActionType.MOVIE_VIEW, ActionType.MOVIE_SEARCH, ActionType.RECOMMENDATION_CLICK];
const ACTION_NAMES = ["movie_view", "movie_view", "movie_view", "movie_search", "recommendation_click"] as const;
const movieOf = (i: number) => SKEW[Math.floor(i / ACTIONS.length) % SKEW.length]!;

const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");

/** Adds the movie_view events of a stream of `n` (as `events` generates them) to `views`, by movie index. */
function countViews(n: number, views: number[]): void {
  for (let i = 0; i < n; i++) if (ACTIONS[i % ACTIONS.length] === ActionType.MOVIE_VIEW) views[movieOf(i)]!++;
}

/** A day of the same month as `day` but outside [day, day + 1]: same partition, not aggregated with the stream. */
function otherDayOfMonth(day: string): string {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() >= 4 ? d.getUTCDate() - 2 : d.getUTCDate() + 2);
  return utcDay(d);
}

async function main(): Promise<void> {
  console.log(`machine: ${cpus().length} cores, node ${process.version}, load average ${load()}; ${EVENTS} events`);
  const db = await openBenchDatabase({ partitionMonthsAhead: 1 });
  const token = `bench${randomBytes(20).toString("hex")}`;
  try {
    const direct = new pg.Client({ connectionString: db.url });
    await direct.connect();
    const movies = await direct.query<{ id: string }>(
      `insert into movies (tmdb_id, title, original_title, original_language)
       select g, 'Bench ' || g, 'Bench ' || g, 'en' from generate_series(1, ${MOVIES}) g order by g returning id::text as id`,
    );
    const movieIds = movies.rows.map((r) => r.id);
    const config = loadConfig({
      ...process.env, NODE_ENV: "development", DATABASE_URL: db.url, REDIS_URL: db.redisUrl,
      REDIS_PREFIX: `bench${randomBytes(4).toString("hex")}`, HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "silent",
      // One producer token: writes the events, then reads the report (the auth rules accept analytics.read for it).
      SERVICE_TOKENS: `bench:analytics.write+analytics.read:${token}`,
    });
    const log = createLogger({ level: "silent" });
    const deps = await openAppDeps(config, log);
    const server = await startServer({ config, log, probes: dependencyProbes(deps), impls: buildImpls(deps), authenticate: buildAuthenticator(deps), readMaxBytes: 64 * 1024 });
    try {
      const client = createClient(AnalyticsService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.port}` }));
      // HTTP/2 flow control keeps the producer at most a window ahead of the server, so the pace at which this
      // generator is drained is the ingestion pace: printed per slice, it shows whether a long stream slows down.
      const slice = Math.max(100_000, EVENTS / 10);
      async function* events(n: number, key: string, progress = false) {
        let sliceStart = performance.now();
        let batch: Event[] = [];
        let first = true;
        for (let i = 0; i < n; i++) {
          if (progress && i > 0 && i % slice === 0) {
            const now = performance.now();
            console.log(`  ${String(i).padStart(8)} sent: ${Math.round((slice / (now - sliceStart)) * 1000)} events/s over the last ${slice} (load average ${load()})`);
            sliceStart = now;
          }
          batch.push(
            create(EventSchema, {
              sessionId: `s${i % 5000}`, actionType: ACTIONS[i % ACTIONS.length]!, movieId: movieIds[movieOf(i)]!, source: Source.WEB,
              referer: "https://app.example.com/browse", metadata: { page: i % 7, ab: "b" },
            }),
          );
          if (batch.length === PER_MESSAGE || i === n - 1) {
            // One event per message is the plain protocol; more use the repeated `events` field.
            yield PER_MESSAGE === 1 ? { batchKey: first ? key : "", event: batch[0] } : { batchKey: first ? key : "", events: batch };
            first = false;
            batch = [];
          }
        }
      }
      const headers = { authorization: `Bearer ${token}`, "user-agent": "bench/1.0 (X11; Linux x86_64)" };
      const firstDay = utcDay(new Date());
      const warm = await client.trackEvents(events(WARMUP, "warmup"), { headers }); // warm-up (JIT, connections)
      let t = performance.now();
      const res = await client.trackEvents(events(EVENTS, `run-${randomBytes(4).toString("hex")}`, true), { headers });
      const rpcMs = performance.now() - t;
      const lastDay = utcDay(new Date());
      const rpcRate = (res.acceptedCount / rpcMs) * 1000;
      console.log(`TrackEvents (gRPC, one stream, keyed batch, ${PER_MESSAGE} events per message): ${res.acceptedCount} events in ${(rpcMs / 1000).toFixed(2)} s = ${Math.round(rpcRate)} events/s (load average ${load()})`);
      const rss = process.memoryUsage();
      console.log(`  process memory after the stream: rss ${Math.round(rss.rss / 2 ** 20)} MiB, heap used ${Math.round(rss.heapUsed / 2 ** 20)} MiB`);

      // The same rows (as the server stores them) with one plain COPY per 5000 rows on one connection, pre-encoded so
      // only PostgreSQL's side is timed. Dated another day of the month: same partition, outside the checked day.
      const copyAt = new Date(`${otherDayOfMonth(firstDay)}T12:00:00Z`);
      const sql = `copy user_activity_logs (${ACTIVITY_COLUMNS.map((c) => `"${c}"`).join(", ")}) from stdin`;
      const texts: string[] = [];
      for (let from = 0; from < EVENTS; from += 5000) {
        const rows: ActivityRow[] = [];
        for (let i = from; i < Math.min(from + 5000, EVENTS); i++) {
          rows.push({
            userId: null, sessionId: `s${i % 5000}`, actionType: ACTION_NAMES[i % ACTION_NAMES.length]!, movieId: movieIds[movieOf(i)]!,
            ipAddress: "127.0.0.0", userAgent: headers["user-agent"], referer: "https://app.example.com/browse", source: "web",
            metadata: JSON.stringify({ page: i % 7, ab: "b" }), timestamp: copyAt,
          });
        }
        texts.push(activityCopyText(rows));
      }
      t = performance.now();
      for (const text of texts) await copyText(direct, sql, text);
      const copyMs = performance.now() - t;
      texts.length = 0;
      const copyRate = (EVENTS / copyMs) * 1000;
      console.log(`plain COPY (pre-encoded text, batches of 5000): ${EVENTS} rows in ${(copyMs / 1000).toFixed(2)} s = ${Math.round(copyRate)} rows/s (load average ${load()})`);
      console.log(`ratio TrackEvents / COPY = ${(rpcRate / copyRate).toFixed(2)} (target >= 0.5)`);

      // The daily job for the streamed day(s): first run, then an idempotent re-run (warm cache, same result).
      const days = daysBetween(firstDay, lastDay);
      if (days.length > 1) console.log(`note: the stream crossed midnight UTC; aggregating and checking ${days.join(", ")}`);
      const pool = await deps.orm.em.getConnection().getNativeClient();
      const total = await direct.query<{ everything: string; day: string }>(
        `select count(*)::text as everything,
                count(*) filter (where "timestamp" >= ($1::date)::timestamp at time zone 'UTC'
                                   and "timestamp" < ($2::date + 1)::timestamp at time zone 'UTC')::text as day
           from user_activity_logs`,
        [firstDay, lastDay],
      );
      for (const day of days) {
        const agg = await aggregateDay(pool, day);
        const again = await aggregateDay(pool, day);
        console.log(`aggregate-day ${day}: ${total.rows[0]!.day} events that day (${total.rows[0]!.everything} in the log), ${agg.movies} movies, ${agg.ms} ms (re-run ${again.ms} ms)`);
      }

      // The producer's view: GetTopMovies over gRPC must account for every streamed movie_view, movie by movie.
      const expected = new Array<number>(MOVIES).fill(0);
      countViews(WARMUP, expected);
      countViews(EVENTS, expected);
      const expectedTotal = expected.reduce((a, b) => a + b, 0);
      const top = await client.getTopMovies({ startDate: firstDay, endDate: lastDay, by: TopMoviesMetric.VIEWS, limit: 100 }, { headers });
      console.log(`GetTopMovies ${firstDay}..${lastDay} by views: ${top.movies.length} movies; top 10:`);
      for (const m of top.movies.slice(0, 10)) console.log(`  ${m.title.padEnd(10)} (id ${m.movieId.padStart(4)}): ${m.viewCount} views`);
      const byId = new Map(movieIds.map((id, j) => [id, expected[j]!]));
      const wrong = top.movies.filter((m) => byId.get(m.movieId) !== m.viewCount);
      const listed = top.movies.reduce((a, m) => a + m.viewCount, 0);
      const expectedMovies = expected.filter((n) => n > 0).length;
      const sorted = top.movies.every((m, k) => k === 0 || top.movies[k - 1]!.viewCount >= m.viewCount);
      const accepted = warm.acceptedCount === WARMUP && res.acceptedCount === EVENTS;
      const ok = accepted && wrong.length === 0 && listed === expectedTotal && top.movies.length === expectedMovies && sorted;
      console.log(
        `GetTopMovies check: ${ok ? "OK" : "MISMATCH"}: views listed ${listed}, streamed ${expectedTotal} ` +
          `(movie_view events of ${WARMUP} warm-up + ${EVENTS} run, ${warm.acceptedCount + res.acceptedCount} accepted); ` +
          `${top.movies.length} of ${expectedMovies} movies listed, ${wrong.length} with a wrong count${sorted ? "" : ", not in views order"}`,
      );
      if (!ok) process.exitCode = 1;
      await direct.end();
    } finally {
      await server.close();
      await closeAppDeps(deps);
    }
  } finally {
    await db.drop();
    console.log(`done; load average ${load()}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
