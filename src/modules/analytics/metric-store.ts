/**
 * Writes to `performance_metrics`: one statement per batch whatever its size (columns bound as arrays and
 * `unnest`ed), used by RecordMetric (one row) and by the RPC metrics flush (one row per method and interval).
 */
import type pg from "pg";
import { InvalidInputError } from "../../platform/errors.ts";
import type { MetricUnit } from "./entities/index.ts";

export interface MetricRow {
  readonly name: string;
  readonly value: number;
  readonly unit: MetricUnit;
  readonly endpoint: string | null;
  readonly userId: string | null;
  readonly additionalData: Readonly<Record<string, unknown>>;
  readonly timestamp: Date;
}

/** Largest serialised `additional_data` accepted from RecordMetric (the proto's documented 8 KiB). */
export const MAX_ADDITIONAL_DATA_BYTES = 8 * 1024;

/** Serialises additional data, refusing oversized documents. */
export function additionalDataJson(data: Readonly<Record<string, unknown>> | undefined): string {
  const json = JSON.stringify(data ?? {});
  if (Buffer.byteLength(json) > MAX_ADDITIONAL_DATA_BYTES) {
    throw new InvalidInputError(`must be at most ${MAX_ADDITIONAL_DATA_BYTES} bytes once serialised`, "additional_data");
  }
  if (json.includes("\\u0000")) throw new InvalidInputError("must not contain the NUL character", "additional_data");
  return json;
}

/** Inserts the rows in one statement. */
export async function insertMetrics(pool: pg.Pool, rows: readonly MetricRow[]): Promise<void> {
  if (rows.length === 0) return;
  await pool.query(
    `insert into performance_metrics (metric_name, metric_value, metric_unit, endpoint, user_id, additional_data, "timestamp")
     select n, v, u, e, uid, d::jsonb, t
       from unnest($1::text[], $2::float8[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::timestamptz[]) as x(n, v, u, e, uid, d, t)`,
    [
      rows.map((r) => r.name),
      rows.map((r) => r.value),
      rows.map((r) => r.unit),
      rows.map((r) => r.endpoint),
      rows.map((r) => r.userId),
      rows.map((r) => JSON.stringify(r.additionalData)),
      rows.map((r) => r.timestamp.toISOString()),
    ],
  );
}
