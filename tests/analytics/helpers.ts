/** Shared pieces of the analytics tests: a server with an analytics service token, event builders, SQL. */
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { MikroORM } from "@mikro-orm/postgresql";
import { ActionType, type Event, EventSchema, Source } from "../../gen/movierec/analytics/v1/analytics_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";

/** Secret of the `web` service token the analytics test servers accept (analytics.write + analytics.read). */
export const SERVICE_TOKEN = `svc${randomBytes(20).toString("hex")}`;
export const SERVICE_HEADERS = { authorization: `Bearer ${SERVICE_TOKEN}` };

/** The real server, with a service token for the web backend that forwards visitors' events. */
export function startAnalyticsServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer({ env: { SERVICE_TOKENS: `web:analytics.write+analytics.read:${SERVICE_TOKEN}`, ...env } });
}

export const uniqueSession = (label = "s") => `${label}-${randomBytes(6).toString("hex")}`;

/** A valid movie_view event of `sessionId`. */
export function viewEvent(sessionId: string, init: { movieId?: string; referer?: string; actionType?: ActionType; source?: Source; metadata?: Record<string, string | number>; occurredAt?: ReturnType<typeof at> } = {}): Event {
  return create(EventSchema, { sessionId, actionType: ActionType.MOVIE_VIEW, source: Source.WEB, ...init });
}

export function at(date: Date) {
  return timestampFromDate(date);
}

/** Runs SQL on a fresh fork of the ORM. */
export async function sql<T extends object>(orm: MikroORM, query: string, params: unknown[] = []): Promise<T[]> {
  return orm.em.fork().execute<T[]>(query, params);
}

/** A movie of our own (unique TMDb id), returning its id. */
export async function insertMovie(orm: MikroORM, title = "Analytics test movie"): Promise<string> {
  const tmdbId = 900_000_000 + Math.floor(Math.random() * 99_999_999);
  const rows = await sql<{ id: string }>(
    orm,
    `insert into movies (tmdb_id, title, original_title, original_language) values (?, ?, ?, 'en') returning id::text as id`,
    [tmdbId, title, title],
  );
  return rows[0]!.id;
}
