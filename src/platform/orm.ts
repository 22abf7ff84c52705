/**
 * MikroORM setup: PostgreSQL driver, every entity, and the hand-written migrations.
 * The schema comes only from migrations (src/migrations): nothing here ever creates or syncs tables from the entities.
 * The one place `platform/` imports from `modules/`: the ORM must know every entity, and `modules/entities.ts` is that list.
 */
import { Migrator } from "@mikro-orm/migrations";
import { MikroORM, type Options, PostgreSqlDriver, UnderscoreNamingStrategy } from "@mikro-orm/postgresql";
import { migrationsList } from "../migrations/index.ts";
import { allEntities } from "../modules/entities.ts";
import type { DependencyLog } from "./dependency-log.ts";
import { pgClientClass } from "./pg-client.ts";

export interface OrmOpenOptions {
  /** Upper bound of the connection pool (default 10). */
  poolMax?: number;
  /** Log every query (development only). */
  debug?: boolean;
  /** Streaming replicas for lag-tolerant reads (see read-replica.ts); each gets its own pool of `poolMax`. */
  replicaUrls?: readonly string[];
  /** Where the pool reports PostgreSQL going away and coming back (one line per change). */
  dependencies?: DependencyLog;
}

/**
 * Underscore naming, except that constraint names are PostgreSQL's own defaults (`users_username_key`,
 * `movie_cast_movie_id_fkey`), which the hand-written migrations rely on; so the entities and the schema agree.
 */
export class PostgresNamingStrategy extends UnderscoreNamingStrategy {
  override indexName(tableName: string, columns: string[], type: Parameters<UnderscoreNamingStrategy["indexName"]>[2]): string {
    const suffix = { foreign: "fkey", unique: "key", index: "idx" }[type as string];
    if (suffix === undefined) return super.indexName(tableName, columns, type);
    const table = tableName.includes(".") ? tableName.slice(tableName.indexOf(".") + 1) : tableName;
    return `${table}_${columns.map((c) => c.replace(/\./g, "_")).join("_")}_${suffix}`;
  }
}

/** Table in which the migrator records applied migrations. */
export const MIGRATIONS_TABLE = "mikro_orm_migrations";

/** The ORM options for `databaseUrl` (postgres://user:pass@host:port/db). Pure: reads no environment. */
export function ormOptions(databaseUrl: string, opts: OrmOpenOptions = {}): Options {
  return {
    driver: PostgreSqlDriver,
    clientUrl: databaseUrl,
    entities: allEntities,
    namingStrategy: PostgresNamingStrategy,
    extensions: [Migrator],
    pool: { min: 0, max: opts.poolMax ?? 10 },
    // Replicas serve only the reads that ask for them (platform/read-replica.ts): MikroORM's default would send every
    // find() outside a transaction to a replica, including a user's read right after their own write.
    // A replica down is no outage (reads fall back to the primary): its clients report nothing to the dependency log.
    replicas: (opts.replicaUrls ?? []).map((url, k) => ({ name: `replica-${k + 1}`, clientUrl: url, driverOptions: { Client: pgClientClass(), ...urlSessionOptions(url) } })),
    preferReadReplicas: false,
    // Our pg client class: statements of a call are cancelled at its deadline; connection failures are reported.
    driverOptions: { Client: pgClientClass(opts.dependencies), ...urlSessionOptions(databaseUrl) },
    debug: opts.debug ?? false,
    // Every request and job must fork its own EntityManager; touching `orm.em` directly is a bug we want to see.
    allowGlobalContext: false,
    // Dates are written and read as UTC regardless of the server's or the session's time zone.
    forceUtcTimezone: true,
    timezone: "+00:00",
    // The database must exist already (created by ops or by the test helper); never create one implicitly.
    ensureDatabase: false,
    migrations: {
      tableName: MIGRATIONS_TABLE,
      migrationsList,
      transactional: true,
      allOrNothing: true,
      // Migrations are hand-written; no schema snapshot files are written next to them.
      snapshot: false,
      snapshotOnMigrate: false,
      silent: !(opts.debug ?? false),
    },
  };
}

/**
 * MikroORM reads host, port, user, password and database from a URL and drops its query string; `application_name`
 * (what pg_stat_activity shows, and how an operator tells the API's sessions on a replica or behind PgBouncer from
 * others) is passed on to the `pg` pool here.
 */
function urlSessionOptions(url: string): { application_name?: string } {
  const name = new URL(url).searchParams.get("application_name");
  return name ? { application_name: name } : {};
}

/** Connects to `databaseUrl` and returns the ORM (call `orm.close()` on shutdown). Does not migrate. */
export async function openOrm(databaseUrl: string, opts: OrmOpenOptions = {}): Promise<MikroORM> {
  return MikroORM.init(ormOptions(databaseUrl, opts));
}
