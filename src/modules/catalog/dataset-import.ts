/**
 * `npm run import -- <tmdb-5000|movielens|all> [--data-dir DIR] [--limit N]`: loads the public datasets (see dataset-files.ts) into
 * the catalogue (TMDb 5000 first, so MovieLens finds the rich rows and only adds what is missing). Idempotent:
 * a second run reports every row unchanged. Prints progress and the throughput in rows/s.
 */
import path from "node:path";
import type pg from "pg";
import type { FileReport } from "./dataset-batches.ts";
import { importMovieLensMovies, importMovieLensRatings, readLinks } from "./dataset-movielens.ts";
import { importTmdb5000 } from "./dataset-tmdb5000.ts";
import { requireDatasetsDir } from "./dataset-files.ts";
import type { Config } from "../../platform/config.ts";
import { createLogger } from "../../platform/logger.ts";
import { createRedis } from "../../platform/redis.ts";
import { CatalogCache } from "./catalog-cache.ts";
import { openImportPool } from "./import-sql.ts";

export const DATASETS = ["tmdb-5000", "movielens"] as const;
export type Dataset = (typeof DATASETS)[number];

export interface DatasetImportOptions {
  /** The folder holding `tmdb-5000/` and `ml-latest-small/` (see `npm run datasets`). */
  readonly dataDir: string;
  readonly datasets: readonly Dataset[];
  /** At most this many data rows per file. */
  readonly limit?: number;
  readonly onProgress?: (r: Readonly<FileReport>) => void;
  /** Database ids of movies created or changed (the command invalidates their cache entries at the end). */
  readonly onMoviesChanged?: (movieIds: string[]) => void;
}

export interface DatasetImportReport {
  readonly files: FileReport[];
  readonly rows: number;
  readonly seconds: number;
  /** Data rows read per second over all files: the import-throughput figure of the bench. */
  readonly rowsPerSecond: number;
}

/** Imports the chosen datasets with `pool`, in dependency order. */
export async function importDatasets(pool: pg.Pool, opts: DatasetImportOptions): Promise<DatasetImportReport> {
  const started = performance.now();
  const files: FileReport[] = [];
  if (opts.datasets.includes("tmdb-5000")) {
    files.push(
      await importTmdb5000(pool, { dir: path.join(opts.dataDir, "tmdb-5000"), limit: opts.limit, onProgress: opts.onProgress, onChanged: opts.onMoviesChanged }),
    );
  }
  if (opts.datasets.includes("movielens")) {
    const dir = path.join(opts.dataDir, "ml-latest-small");
    const links = await readLinks(dir);
    files.push(await importMovieLensMovies(pool, { dir, links, limit: opts.limit, onProgress: opts.onProgress, onChanged: opts.onMoviesChanged }));
    files.push(await importMovieLensRatings(pool, { dir, links, limit: opts.limit, onProgress: opts.onProgress }));
  }
  const seconds = (performance.now() - started) / 1000;
  const rows = files.reduce((n, f) => n + f.rows, 0);
  return { files, rows, seconds, rowsPerSecond: rows / Math.max(seconds, 1e-9) };
}

/**
 * The bench's import-throughput figure: imports every dataset into `databaseUrl` (which must be migrated)
 * and returns rows/s. Run it on an empty catalogue for the insert figure, again for the re-run figure.
 */
export async function measureImportThroughput(databaseUrl: string, dataDir: string): Promise<DatasetImportReport> {
  const pool = openImportPool(databaseUrl, 2);
  try {
    return await importDatasets(pool, { dataDir, datasets: DATASETS });
  } finally {
    await pool.end();
  }
}

/** Parses the command's arguments; throws with a usage line when they make no sense. */
export function parseImportArgs(argv: readonly string[], envDataDir?: string): { datasets: Dataset[]; dataDir: string; limit?: number } {
  const usage = "usage: npm run import -- <tmdb-5000|movielens|all> [--data-dir DIR] [--limit N]   (or DATASETS_DIR=DIR)";
  const datasets: Dataset[] = [];
  let dataDir: string | undefined;
  let limit: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--data-dir") dataDir = argv[++i] ?? "";
    else if (a === "--limit") {
      limit = Number(argv[++i]);
      if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit must be a positive integer\n${usage}`);
    } else if (a === "all") datasets.push(...DATASETS);
    else if ((DATASETS as readonly string[]).includes(a)) datasets.push(a as Dataset);
    else throw new Error(`unknown argument ${JSON.stringify(a)}\n${usage}`);
  }
  if (datasets.length === 0) throw new Error(usage);
  return { datasets: [...new Set(datasets)], dataDir: requireDatasetsDir(dataDir, envDataDir), limit };
}

/** One line per file: what happened, the malformed rows (first 20) and the throughput. */
export function formatReport(report: DatasetImportReport): string {
  const lines: string[] = [];
  for (const f of report.files) {
    lines.push(
      `${path.basename(f.file)}: ${f.rows} rows — ${f.imported} imported, ${f.updated} updated, ${f.unchanged} unchanged, ` +
        `${f.skipped} skipped, ${f.malformedCount} malformed — ${f.seconds.toFixed(2)} s, ${Math.round(f.rowsPerSecond)} rows/s`,
    );
    for (const [reason, n] of Object.entries(f.skipReasons)) lines.push(`  skipped ${n}: ${reason}`);
    for (const p of f.malformed.slice(0, 20)) lines.push(`  line ${p.line}: ${p.error}`);
    if (f.malformedCount > 20) lines.push(`  … and ${f.malformedCount - 20} more malformed rows`);
  }
  lines.push(`total: ${report.rows} rows in ${report.seconds.toFixed(2)} s — ${Math.round(report.rowsPerSecond)} rows/s`);
  return lines.join("\n");
}

/**
 * The `import` role of src/main.ts. At the end, the catalogue cache drops the movies that changed and
 * every cached list (if Redis is down, entries expire on their TTL: the import does not fail for it).
 */
export async function runImportCommand(
  config: Pick<Config, "databaseUrl" | "redisUrl" | "redisPrefix"> & { readonly datasetsDir?: string },
  argv: readonly string[],
  out: (line: string) => void,
): Promise<DatasetImportReport> {
  const args = parseImportArgs(argv, config.datasetsDir);
  const pool = openImportPool(config.databaseUrl, 2);
  const changed = new Set<string>();
  try {
    let lastLine = 0;
    const report = await importDatasets(pool, {
      ...args,
      onMoviesChanged: (ids) => ids.forEach((id) => changed.add(id)),
      onProgress(r) {
        const now = performance.now();
        if (now - lastLine < 1000) return; // a line a second is progress enough
        lastLine = now;
        out(`${path.basename(r.file)}: ${r.rows} rows read, ${Math.round(r.rowsPerSecond)} rows/s`);
      },
    });
    out(formatReport(report));
    if (changed.size > 0) await invalidateCache(config, [...changed]);
    return report;
  } finally {
    await pool.end();
  }
}

async function invalidateCache(config: Pick<Config, "redisUrl" | "redisPrefix">, movieIds: string[]): Promise<void> {
  const redis = createRedis(config.redisUrl, { keyPrefix: `${config.redisPrefix}:`, name: "movierec-import" });
  redis.on("error", () => {}); // reported by the cache as a failed invalidation
  try {
    await new Promise<void>((resolve) => {
      if (redis.status === "ready") return resolve();
      redis.once("ready", () => resolve());
      setTimeout(resolve, 2000); // Redis down: the cache logs the failure and entries expire on their TTL
    });
    const cache = new CatalogCache({ redis, log: createLogger({ level: "warn", name: "movierec-import" }) });
    for (let i = 0; i < movieIds.length; i += 1000) await cache.invalidateMovies(movieIds.slice(i, i + 1000));
  } finally {
    redis.disconnect();
  }
}
