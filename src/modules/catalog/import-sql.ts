/**
 * The direct PostgreSQL access of the imports. Bulk upserts bind whole columns as arrays
 * (`insert … select * from unnest($1::int[], $2::text[], …)`): one statement and a handful of
 * parameters per batch whatever its size. MikroORM's `em.execute` inlines array parameters as
 * value lists, so the imports use `pg` directly, on a small pool of their own.
 */
import pg from "pg";

/** What the upserts need from a connection: `pg.PoolClient` and `pg.Client` both fit. */
export interface SqlClient {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** A pool for the imports; `allowExitOnIdle` so a command or worker is never kept alive by idle connections. */
export function openImportPool(databaseUrl: string, max = 2): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, idleTimeoutMillis: 10_000, allowExitOnIdle: true });
  pool.on("error", () => {}); // an idle client dropped by the server is replaced on the next checkout
  return pool;
}

/** Runs `fn` in one transaction: all of it is applied or none (a batch is never half-applied). */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: SqlClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const result = await fn(client);
    await client.query("commit");
    return result;
  } catch (e) {
    await client.query("rollback").catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}
