/**
 * `npm run bench:ingest`: events per second through TrackEvents (one gRPC client stream, the real server, COPY into
 * the partitioned user_activity_logs with all its indexes) next to a plain COPY of the same rows into the same table
 * (the physical limit), as a ratio; then the daily aggregation time of the day those events fell on.
 * Server and client run in this one process (2 cores are shared with PostgreSQL), so the ratio is a lower bound.
 * Bounded: a fixed number of events, loopback only, a throw-away database dropped at the end.
 * Options (env): BENCH_EVENTS (default 200000).
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ActionType, EventSchema, Source } from "../../gen/movierec/analytics/v1/analytics_pb.js";
import { AnalyticsService } from "../../gen/movierec/analytics/v1/analytics_service_pb.js";
import { loadConfig } from "../platform/config.ts";
import { ensureInfrastructure } from "../platform/dev-infra.ts";
import { createLogger } from "../platform/logger.ts";
import { migrateUp } from "../platform/migrations.ts";
import { openOrm } from "../platform/orm.ts";
import { ensurePartitions } from "../platform/partitions.ts";
import { aggregateDay, utcDay } from "../modules/analytics/index.ts";
import { activityCopyText, copyText, ACTIVITY_COLUMNS } from "../modules/analytics/event-store.ts";
import type { ActivityRow } from "../modules/analytics/event-input.ts";
import { closeAppDeps, dependencyProbes, openAppDeps } from "../server/app-deps.ts";
import { buildAuthenticator, buildImpls } from "../server/impls.ts";
import { startServer } from "../server/server.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const MOVIES = 500;

async function main(): Promise<void> {
  const infra = await ensureInfrastructure({ databaseUrl: process.env.DATABASE_URL, redisUrl: process.env.REDIS_URL, dataDir: path.resolve(".data/bench") });
  const dbName = `movierec_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: infra.databaseUrl });
  await admin.connect();
  await admin.query(`create database "${dbName}"`);
  const dbUrl = new URL(infra.databaseUrl);
  dbUrl.pathname = `/${dbName}`;
  const token = `bench${randomBytes(20).toString("hex")}`;
  try {
    const orm = await openOrm(dbUrl.toString());
    await migrateUp(orm);
    await ensurePartitions(orm, { now: new Date(), monthsAhead: 1 });
    await orm.close();
    const direct = new pg.Client({ connectionString: dbUrl.toString() });
    await direct.connect();
    const movies = await direct.query<{ id: string }>(
      `insert into movies (tmdb_id, title, original_title, original_language)
       select g, 'Bench ' || g, 'Bench ' || g, 'en' from generate_series(1, ${MOVIES}) g returning id::text as id`,
    );
    const movieIds = movies.rows.map((r) => r.id);
    const config = loadConfig({
      ...process.env, NODE_ENV: "development", DATABASE_URL: dbUrl.toString(), REDIS_URL: infra.redisUrl,
      REDIS_PREFIX: `bench${randomBytes(4).toString("hex")}`, HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "silent",
      SERVICE_TOKENS: `bench:analytics.write:${token}`,
    });
    const log = createLogger({ level: "silent" });
    const deps = await openAppDeps(config, log);
    const server = await startServer({ config, log, probes: dependencyProbes(deps), impls: buildImpls(deps), authenticate: buildAuthenticator(deps), readMaxBytes: 64 * 1024 });
    const day = utcDay(new Date());
    try {
      const client = createClient(AnalyticsService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.port}` }));
      const actions = [ActionType.MOVIE_VIEW, ActionType.MOVIE_VIEW, ActionType.MOVIE_VIEW, ActionType.MOVIE_SEARCH, ActionType.RECOMMENDATION_CLICK];
      async function* events(n: number, key: string) {
        for (let i = 0; i < n; i++) {
          yield {
            batchKey: i === 0 ? key : "",
            event: create(EventSchema, {
              sessionId: `s${i % 5000}`, actionType: actions[i % actions.length]!, movieId: movieIds[i % MOVIES]!, source: Source.WEB,
              referer: "https://app.example.com/browse", metadata: { page: i % 7, ab: "b" },
            }),
          };
        }
      }
      const headers = { authorization: `Bearer ${token}`, "user-agent": "bench/1.0 (X11; Linux x86_64)" };
      await client.trackEvents(events(20_000, "warmup"), { headers }); // warm-up (JIT, connections)
      let t = performance.now();
      const res = await client.trackEvents(events(EVENTS, `run-${randomBytes(4).toString("hex")}`), { headers });
      const rpcMs = performance.now() - t;
      const rpcRate = (res.acceptedCount / rpcMs) * 1000;
      console.log(`TrackEvents (gRPC, one stream, keyed batch): ${res.acceptedCount} events in ${(rpcMs / 1000).toFixed(2)} s = ${Math.round(rpcRate)} events/s`);

      // The same rows (as the server stores them) with one plain COPY per 5000 rows on one connection.
      const now = new Date();
      const rows: ActivityRow[] = Array.from({ length: EVENTS }, (_, i) => ({
        userId: null, sessionId: `s${i % 5000}`, actionType: (["movie_view", "movie_view", "movie_view", "movie_search", "recommendation_click"] as const)[i % 5]!,
        movieId: movieIds[i % MOVIES]!, ipAddress: "127.0.0.0", userAgent: headers["user-agent"], referer: "https://app.example.com/browse",
        source: "web", metadata: JSON.stringify({ page: i % 7, ab: "b" }), timestamp: now,
      }));
      const sql = `copy user_activity_logs (${ACTIVITY_COLUMNS.map((c) => `"${c}"`).join(", ")}) from stdin`;
      const texts: string[] = [];
      for (let i = 0; i < rows.length; i += 5000) texts.push(activityCopyText(rows.slice(i, i + 5000)));
      t = performance.now();
      for (const text of texts) await copyText(direct, sql, text);
      const copyMs = performance.now() - t;
      const copyRate = (EVENTS / copyMs) * 1000;
      console.log(`plain COPY (pre-encoded text, batches of 5000): ${EVENTS} rows in ${(copyMs / 1000).toFixed(2)} s = ${Math.round(copyRate)} rows/s`);
      console.log(`ratio TrackEvents / COPY = ${(rpcRate / copyRate).toFixed(2)} (target >= 0.5)`);

      const total = await direct.query<{ n: string }>("select count(*)::text as n from user_activity_logs");
      const pool = await deps.orm.em.getConnection().getNativeClient();
      const agg = await aggregateDay(pool, day);
      console.log(`aggregate-day ${day}: ${total.rows[0]!.n} events in the log, ${agg.movies} movies, ${agg.ms} ms`);
      await direct.end();
    } finally {
      await server.close();
      await closeAppDeps(deps);
    }
  } finally {
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [dbName]);
    await admin.query(`drop database if exists "${dbName}"`);
    await admin.end();
    await infra.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
