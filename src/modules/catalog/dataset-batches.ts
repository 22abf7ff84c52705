/**
 * The loop every dataset file goes through: read CSV records, turn each into an item (or a reported
 * malformed row), and apply items in batches, one transaction per batch. A batch the database rejects
 * is rolled back whole and replayed row by row, so the one bad row is reported by its line number and
 * the good rows around it still land.
 */
import type pg from "pg";
import { readCsv } from "./dataset-csv.ts";
import { inTransaction, type SqlClient } from "./import-sql.ts";

/** A row that could not be imported, by its line in the file. */
export interface RowProblem {
  readonly line: number;
  readonly error: string;
}

/** What one file's import did. */
export interface FileReport {
  readonly file: string;
  /** Data rows read (header excluded). */
  rows: number;
  /** Rows that created something new. */
  imported: number;
  /** Rows that changed existing data. */
  updated: number;
  /** Rows whose data was already there, unchanged. */
  unchanged: number;
  /** Valid rows deliberately not imported (e.g. a MovieLens movie without a TMDb id); `skipReasons` says why. */
  skipped: number;
  readonly skipReasons: Record<string, number>;
  /** Malformed rows (and rows the database refused), skipped; at most the first 1000 are listed. */
  readonly malformed: RowProblem[];
  malformedCount: number;
  seconds: number;
  rowsPerSecond: number;
}

/** Outcome of applying one batch: per-item counts. */
export interface BatchOutcome {
  imported: number;
  updated: number;
  unchanged: number;
}

/** A row turned into an item, or skipped on purpose. */
export type Parsed<T> = { item: T } | { skip: string };

/** Thrown by a row parser: the row is malformed. */
export class RowError extends Error {}

export interface BatchLoopOptions<T> {
  readonly path: string;
  /** Column names the header must contain; rows are given to `parse` as a name → value map. */
  readonly columns: readonly string[];
  readonly parse: (row: Readonly<Record<string, string>>) => Parsed<T>;
  readonly apply: (client: SqlClient, items: T[]) => Promise<BatchOutcome>;
  readonly batchSize: number;
  /** Stop after this many data rows (tests, quick runs). */
  readonly limit?: number;
  readonly onProgress?: (report: Readonly<FileReport>) => void;
}

const MAX_LISTED = 1000;

/** Imports one CSV file in batches; see the module comment. */
export async function importCsvInBatches<T>(pool: pg.Pool, opts: BatchLoopOptions<T>): Promise<FileReport> {
  const started = performance.now();
  const report: FileReport = {
    file: opts.path,
    rows: 0,
    imported: 0,
    updated: 0,
    unchanged: 0,
    skipped: 0,
    skipReasons: {},
    malformed: [],
    malformedCount: 0,
    seconds: 0,
    rowsPerSecond: 0,
  };
  const problem = (line: number, error: string) => {
    report.malformedCount++;
    if (report.malformed.length < MAX_LISTED) report.malformed.push({ line, error });
  };
  const add = (o: BatchOutcome) => {
    report.imported += o.imported;
    report.updated += o.updated;
    report.unchanged += o.unchanged;
  };
  let header: string[] | undefined;
  let batch: Array<{ line: number; item: T }> = [];

  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    try {
      add(await inTransaction(pool, (c) => opts.apply(c, items.map((i) => i.item))));
    } catch {
      // Find the offending row(s): each row alone, each in its own transaction.
      for (const { line, item } of items) {
        try {
          add(await inTransaction(pool, (c) => opts.apply(c, [item])));
        } catch (e) {
          problem(line, `rejected by the database: ${(e as Error).message}`);
        }
      }
    }
    report.seconds = (performance.now() - started) / 1000;
    report.rowsPerSecond = report.rows / Math.max(report.seconds, 1e-9);
    opts.onProgress?.(report);
  };

  for await (const record of readCsv(opts.path)) {
    if (!header) {
      header = record.fields.map((f) => f.replace(/^\uFEFF/, "").trim());
      const missing = opts.columns.filter((c) => !header!.includes(c));
      if (missing.length > 0) throw new Error(`${opts.path}: header lacks column(s) ${missing.join(", ")}`);
      continue;
    }
    if (opts.limit !== undefined && report.rows >= opts.limit) break;
    report.rows++;
    if (record.error) {
      problem(record.line, record.error);
      continue;
    }
    if (record.fields.length !== header.length) {
      problem(record.line, `expected ${header.length} fields, found ${record.fields.length}`);
      continue;
    }
    const row: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) row[header[i]!] = record.fields[i]!;
    let parsed: Parsed<T>;
    try {
      parsed = opts.parse(row);
    } catch (e) {
      if (!(e instanceof RowError)) throw e;
      problem(record.line, e.message);
      continue;
    }
    if ("skip" in parsed) {
      report.skipped++;
      report.skipReasons[parsed.skip] = (report.skipReasons[parsed.skip] ?? 0) + 1;
      continue;
    }
    batch.push({ line: record.line, item: parsed.item });
    if (batch.length >= opts.batchSize) await flush();
  }
  if (!header) throw new Error(`${opts.path}: empty file`);
  await flush();
  report.seconds = (performance.now() - started) / 1000;
  report.rowsPerSecond = report.rows / Math.max(report.seconds, 1e-9);
  return report;
}

/** Field parsers that throw RowError naming the column. */
export const field = {
  int(row: Readonly<Record<string, string>>, name: string, opts: { min?: number; optional?: boolean } = {}): number | null {
    const raw = (row[name] ?? "").trim();
    if (raw === "" && opts.optional) return null;
    // Some exports write integers as floats ("120.0").
    const n = Number(raw);
    if (raw === "" || !Number.isFinite(n) || !Number.isInteger(n)) throw new RowError(`${name}: not an integer: ${JSON.stringify(raw.slice(0, 40))}`);
    if (opts.min !== undefined && n < opts.min) throw new RowError(`${name}: ${n} is below ${opts.min}`);
    if (!Number.isSafeInteger(n)) throw new RowError(`${name}: ${raw} is too large`);
    return n;
  },
  float(row: Readonly<Record<string, string>>, name: string, opts: { min?: number; max?: number; optional?: boolean } = {}): number | null {
    const raw = (row[name] ?? "").trim();
    if (raw === "" && opts.optional) return null;
    const n = Number(raw);
    if (raw === "" || !Number.isFinite(n)) throw new RowError(`${name}: not a number: ${JSON.stringify(raw.slice(0, 40))}`);
    if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
      throw new RowError(`${name}: ${n} is outside ${opts.min ?? "-∞"}..${opts.max ?? "∞"}`);
    }
    return n;
  },
  date(row: Readonly<Record<string, string>>, name: string): string | null {
    const raw = (row[name] ?? "").trim();
    if (raw === "") return null;
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
    const d = m ? new Date(`${raw}T00:00:00Z`) : undefined;
    if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== raw) throw new RowError(`${name}: not a date: ${JSON.stringify(raw.slice(0, 40))}`);
    return raw;
  },
  json<T>(row: Readonly<Record<string, string>>, name: string, check: (v: unknown) => v is T): T {
    const raw = (row[name] ?? "").trim();
    let v: unknown;
    try {
      v = raw === "" ? [] : JSON.parse(raw);
    } catch {
      throw new RowError(`${name}: invalid JSON`);
    }
    if (!check(v)) throw new RowError(`${name}: unexpected JSON shape`);
    return v;
  },
};
