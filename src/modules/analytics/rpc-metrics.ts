/**
 * RPC performance, aggregated in memory and written to `performance_metrics` in batches: every call only updates
 * counters of its method (no I/O on the hot path); every `flushMs` (and on close) one row per method that was called
 * is inserted, all in one statement. Row: `metric_name = 'rpc.server.latency'`, `endpoint` = method, value = mean ms,
 * `additional_data` = { count, errors, codes, sum_ms, max_ms, hist } where `hist` is the latency histogram
 * (latency-histogram.ts), from which GetPerformanceSummary computes percentiles over any window.
 */
import type pg from "pg";
import type { Logger } from "../../platform/logger.ts";
import { type Histogram, observe, toRecord } from "./latency-histogram.ts";
import { type MetricRow, insertMetrics } from "./metric-store.ts";
import { dependencyFailure } from "../../platform/errors.ts";

export const RPC_LATENCY_METRIC = "rpc.server.latency";

/** Codes that are the server's fault (or outage) rather than the caller's: they count as errors. */
const ERROR_CODES = new Set(["unknown", "internal", "unavailable", "data_loss", "deadline_exceeded", "unimplemented"]);

interface MethodStats {
  count: number;
  errors: number;
  sumMs: number;
  maxMs: number;
  codes: Record<string, number>;
  hist: Histogram;
}

export interface RpcMetricsRecorder {
  /** Records one finished call (`code` in snake case, e.g. "ok", "not_found"). Synchronous and allocation-light. */
  record(method: string, code: string, ms: number): void;
  /** Writes what was recorded since the last flush. */
  flush(): Promise<void>;
  /** Stops the timer and flushes. */
  close(): Promise<void>;
}

/** Whether a code counts as a failed call in the error rate. */
export function isErrorCode(code: string): boolean {
  return ERROR_CODES.has(code);
}

export function createRpcMetricsRecorder(deps: { pool: () => Promise<pg.Pool>; log: Logger; flushMs: number; now?: () => Date }): RpcMetricsRecorder {
  let stats = new Map<string, MethodStats>();
  let flushing: Promise<void> = Promise.resolve();
  const now = deps.now ?? (() => new Date());

  const flushOnce = async () => {
    if (stats.size === 0) return;
    const taken = stats;
    stats = new Map();
    const at = now();
    const rows: MetricRow[] = [...taken].map(([method, s]) => ({
      name: RPC_LATENCY_METRIC,
      value: s.sumMs / s.count,
      unit: "ms",
      endpoint: method.slice(0, 200),
      userId: null,
      additionalData: { count: s.count, errors: s.errors, codes: s.codes, sum_ms: s.sumMs, max_ms: s.maxMs, hist: toRecord(s.hist) },
      timestamp: at,
    }));
    try {
      await insertMetrics(await deps.pool(), rows);
    } catch (e) {
      // Metrics must never hurt serving: a failed flush is logged and its interval lost (Prometheus still has it).
      // PostgreSQL being down is logged once by the process's DependencyLog, not at every flush.
      if (dependencyFailure(e)) deps.log.debug({ err: (e as Error).message, rows: rows.length }, "RPC metrics not written: database unavailable");
      else deps.log.warn({ err: e, rows: rows.length }, "could not write RPC metrics");
    }
  };
  const flush = () => (flushing = flushing.then(flushOnce));
  const timer = setInterval(() => void flush(), deps.flushMs);
  timer.unref();

  return {
    record(method, code, ms) {
      let s = stats.get(method);
      if (!s) stats.set(method, (s = { count: 0, errors: 0, sumMs: 0, maxMs: 0, codes: {}, hist: new Map() }));
      s.count++;
      if (ERROR_CODES.has(code)) s.errors++;
      s.sumMs += ms;
      if (ms > s.maxMs) s.maxMs = ms;
      s.codes[code] = (s.codes[code] ?? 0) + 1;
      observe(s.hist, ms);
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
