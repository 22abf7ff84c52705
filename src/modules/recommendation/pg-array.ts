/**
 * A PostgreSQL array literal for one bind parameter (`?::bigint[]`). The query builder expands a JS array into one
 * parameter per element, which hits the 65,535-parameter limit on batch writes (200 users × 4 lists × 100 rows).
 * Only for ids, numbers and our own fixed words: nothing here needs quoting.
 */
export function pgArray(values: readonly (string | number)[]): string {
  for (const v of values) if (typeof v === "string" && !/^[A-Za-z0-9_.-]+$/.test(v)) throw new RangeError(`value ${JSON.stringify(v)} needs quoting in an array literal`);
  return `{${values.join(",")}}`;
}

/** What the shared readers need of a transaction: `execute` with `?` placeholders (an EntityManager, or a `pg` client through list-writer.ts). */
export interface SqlExecutor {
  execute<T = Record<string, unknown>[]>(sql: string, params?: unknown[]): Promise<T>;
}
