/**
 * An internal service calling movierec over gRPC with `movierec/client`: a nightly "what people watched" report.
 * It holds a service token with the scope analytics.read (SERVICE_TOKENS=reporting:analytics.read:<secret> on
 * the server) and calls a staff-only report plus a public catalogue method. Run it with
 *   MOVIEREC_URL=http://localhost:8080 MOVIEREC_SERVICE_TOKEN=<secret> node examples/internal-service.ts
 * tests/client/client.test.ts runs this file against a real server.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { TopMoviesMetric } from "../gen/movierec/analytics/v1/analytics_service_pb.js";
import { createMovierecClient } from "movierec/client";

const api = createMovierecClient({
  baseUrl: process.env.MOVIEREC_URL ?? "http://localhost:8080",
  serviceToken: process.env.MOVIEREC_SERVICE_TOKEN,
  protocol: "grpc",
  timeoutMs: 15_000, // each call's deadline; UNAVAILABLE on the read methods is retried twice
});

const day = new Date().toISOString().slice(0, 10);
try {
  const { movies } = await api.analytics.getTopMovies({ startDate: day, endDate: day, by: TopMoviesMetric.VIEWS, limit: 5 });
  const { genres } = await api.catalog.listGenres({});
  console.log(JSON.stringify({ day, top: movies.map((m) => ({ title: m.title, views: m.viewCount })), genres: genres.length }));
} catch (e) {
  const err = ConnectError.from(e);
  console.error(`movierec refused: ${Code[err.code]} ${err.rawMessage}`);
  process.exitCode = 1;
}
