/**
 * Imported first by main.ts, for its side effect: starts tracing (when the OTEL_* variables ask for it) before any
 * module loads `pg`, so its client is instrumented. Named after the role, e.g. `movierec-worker`.
 */
import { startTracingFromEnv } from "./tracing.ts";

startTracingFromEnv(`movierec-${process.argv[2] ?? "serve"}`);
