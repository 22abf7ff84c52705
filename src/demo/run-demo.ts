/**
 * `npm run demo`: the whole system on demo data, from a fresh checkout.
 *
 *   1. find or start PostgreSQL and Redis (platform/dev-infra.ts; data in `.data/`),
 *   2. migrate the database and load the generated demo catalogue (idempotent),
 *   3. start `node src/main.ts serve` and `node src/main.ts worker` with the URLs,
 *   4. on SIGINT / SIGTERM / SIGHUP, or when its parent (npm) dies: stop server and worker, then what step 1 started.
 *      Server and worker hold an IPC channel to this process and stop when it closes, so they do not outlive
 *      it even when it is killed hard; the private PostgreSQL and redis-server have a watcher for that too.
 *
 * Flags (after `npm run demo --`): --port N, --database-url URL, --redis-url URL,
 * --data-dir DIR, --private (ignore servers on 5432/6379 and start private ones),
 * --pg-port N / --redis-port N (ports of the PostgreSQL / Redis the demo starts; default free ones).
 * DATABASE_URL, REDIS_URL and PORT in the environment work too.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureInfrastructure, redact, type Infrastructure } from "../platform/dev-infra.ts";
import { exitWithParentPid } from "../platform/parent-watch.ts";
import { migrateUp } from "../platform/migrations.ts";
import { openOrm } from "../platform/orm.ts";
import { ensurePartitions } from "../platform/partitions.ts";
import { loadDemoCatalog, type DemoCatalogCounts } from "./demo-catalog.ts";
import { formatJourney, runNewcomerJourney, waitForModel } from "./demo-journey.ts";
import { loadDemoPopulation, type DemoPopulationCounts } from "./demo-population.ts";
import { DEMO_STAFF, ensureDemoStaff } from "./demo-staff.ts";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** How long server and worker get to finish in-flight work after SIGTERM. */
const CHILD_STOP_TIMEOUT_MS = 20_000;

interface DemoOptions {
  port: number;
  databaseUrl?: string;
  redisUrl?: string;
  dataDir: string;
  privateServers: boolean;
  pgPort?: number | undefined;
  redisPort?: number | undefined;
}

const log = (msg: string): void => console.log(`[demo] ${msg}`);

/**
 * Flags first, then the same variables the server reads. This entry script reads
 * the environment itself (like main.ts through loadConfig) because "variable not
 * set" must mean "find or start one", which loadConfig's defaults cannot express.
 */
function demoOptions(argv: string[], env: NodeJS.ProcessEnv): DemoOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      "database-url": { type: "string" },
      "redis-url": { type: "string" },
      "data-dir": { type: "string" },
      private: { type: "boolean" },
      "pg-port": { type: "string" },
      "redis-port": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log("usage: npm run demo -- [--port 8080] [--database-url postgres://…] [--redis-url redis://…] [--data-dir .data] [--private] [--pg-port N] [--redis-port N]");
    process.exit(0);
  }
  const portOf = (raw: string, flag: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`invalid ${flag} ${JSON.stringify(raw)}: a port is 1–65535`);
    return n;
  };
  const port = portOf(values.port ?? env.PORT ?? "8080", "port");
  const nonEmpty = (v: string | undefined) => (v === undefined || v === "" ? undefined : v);
  return {
    port,
    databaseUrl: nonEmpty(values["database-url"]) ?? nonEmpty(env.DATABASE_URL),
    redisUrl: nonEmpty(values["redis-url"]) ?? nonEmpty(env.REDIS_URL),
    dataDir: resolve(values["data-dir"] ?? join(REPO_ROOT, ".data")),
    privateServers: values.private ?? false,
    pgPort: values["pg-port"] === undefined ? undefined : portOf(values["pg-port"], "--pg-port"),
    redisPort: values["redis-port"] === undefined ? undefined : portOf(values["redis-port"], "--redis-port"),
  };
}

/** Migrates the database and (re)loads the demo catalogue. */
async function prepareDatabase(databaseUrl: string): Promise<DemoCatalogCounts & { population: DemoPopulationCounts }> {
  const orm = await openOrm(databaseUrl, { poolMax: 2 });
  try {
    const applied = await migrateUp(orm);
    log(applied.length > 0 ? `applied migrations: ${applied.join(", ")}` : "database schema is up to date");
    await ensurePartitions(orm, { now: new Date(), monthsAhead: 3 });
    const counts = await loadDemoCatalog(orm);
    // Viewers with tastes, so the worker has something to learn from at start (and trending has recent activity).
    const population = await loadDemoPopulation(orm);
    await ensureDemoStaff(orm);
    return { ...counts, population };
  } finally {
    await orm.close();
  }
}

/** Fails early with a useful message instead of a server crash log. */
async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((ok, fail) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) =>
      fail(new Error(err.code === "EADDRINUSE" ? `port ${port} is already in use; try: npm run demo -- --port ${port + 1}` : err.message)),
    );
    probe.listen(port, () => probe.close(() => ok()));
  });
}

/** Resolves once the server answers the health check as SERVING (Connect protocol, plain HTTP/1.1 + JSON). */
async function waitUntilServing(port: number, server: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null) throw new Error("the server exited during start-up (see its log above)");
    try {
      const res = await fetch(`http://127.0.0.1:${port}/grpc.health.v1.Health/Check`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
        signal: AbortSignal.timeout(1000),
      });
      if (res.ok && ((await res.json()) as { status?: string }).status === "SERVING") return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the server did not report SERVING on port ${port} within ${timeoutMs / 1000} s`);
}

/**
 * Starts `node src/main.ts <role>` with Node 24 (this process's node), sharing our terminal. The IPC channel is
 * the child's lifeline: main.ts shuts down when it closes, i.e. when this process is gone for any reason.
 */
function startRole(role: "serve" | "worker", env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [join(REPO_ROOT, "src", "main.ts"), role], { cwd: REPO_ROOT, env, stdio: ["inherit", "inherit", "inherit", "ipc"] });
}

/** SIGTERM, then SIGKILL after the timeout; resolves when the child is gone. */
async function stopChild(child: ChildProcess, name: string): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => {
    log(`${name} did not stop within ${CHILD_STOP_TIMEOUT_MS / 1000} s; killing it`);
    child.kill("SIGKILL");
  }, CHILD_STOP_TIMEOUT_MS);
  await gone;
  clearTimeout(timer);
}

function printWelcome(opts: DemoOptions, infra: Infrastructure, counts: DemoCatalogCounts & { population: DemoPopulationCounts }, journey: string): void {
  const where = (started: boolean, what: string) => (started ? `${what}` : "existing server");
  const p = opts.port;
  const json = "-H 'content-type: application/json'";
  console.log(`
────────────────────────────────────────────────────────────────────────────
 movierec demo is running
   API (gRPC, gRPC-Web, Connect on one port): http://localhost:${p}
   Operator console (sign in as the staff account below): http://localhost:${p}/console/
   PostgreSQL: ${infra.startedPostgres ? infra.databaseUrl : redact(infra.databaseUrl)}  (${where(infra.startedPostgres, `embedded, data in ${relative(process.cwd(), join(opts.dataDir, "postgres")) || "."}`)})
   Redis:      ${redact(infra.redisUrl)}  (${where(infra.startedRedis, "private redis-server, nothing persisted")})
   Demo catalogue: ${counts.movies} movies, ${counts.genres} genres, ${counts.persons} people, ${counts.companies} companies
   Demo population: ${counts.population.users} synthetic viewers in ${counts.population.groups} taste groups, ${counts.population.interactions} interactions

 Try it:
   grpcurl -plaintext localhost:${p} list
   grpcurl -plaintext -d '{"pageSize":5}' localhost:${p} movierec.catalog.v1.CatalogService/ListMovies
   curl -s -X POST http://localhost:${p}/movierec.catalog.v1.CatalogService/ListGenres ${json} -d '{}'
   curl -s -X POST http://localhost:${p}/grpc.health.v1.Health/Check ${json} -d '{}'

 ${journey}

 Staff account (staff-only methods): ${DEMO_STAFF.username} / ${DEMO_STAFF.password}
   curl -s -X POST http://localhost:${p}/movierec.user.v1.UserService/Login ${json} -d '{"login":"${DEMO_STAFF.username}","password":"${DEMO_STAFF.password}"}'

 Stop with Ctrl-C.
────────────────────────────────────────────────────────────────────────────
`);
}

/**
 * Waits for the worker's start-up training, then runs the newcomer journey live; a failure here is reported,
 * never fatal (the demo is still usable).
 */
async function newcomerJourney(baseUrl: string): Promise<string> {
  try {
    log("waiting for the worker's first model (trained at start on the demo population)");
    if (!(await waitForModel(baseUrl, DEMO_STAFF, 120_000))) return "No model was trained within 120 s: recommendations are trending lists until one is.";
    return formatJourney(await runNewcomerJourney(baseUrl));
  } catch (err) {
    return `The newcomer journey could not run: ${err instanceof Error ? err.message : String(err)}`;
  }
}

async function main(): Promise<void> {
  const opts = demoOptions(process.argv.slice(2), process.env);
  const children: Array<{ name: string; child: ChildProcess }> = [];
  let infra: Infrastructure | undefined;
  let stopping: Promise<void> | undefined;

  const shutdown = (reason: string, code: number): Promise<void> => {
    stopping ??= (async () => {
      log(`${reason}: stopping server and worker`);
      await Promise.all(children.map(({ name, child }) => stopChild(child, name)));
      if (infra) {
        log("stopping local infrastructure");
        await infra.stop().catch((err: unknown) => log(`could not stop infrastructure cleanly: ${String(err)}`));
      }
      log("bye");
      process.exit(code);
    })();
    return stopping;
  };
  // Installed before anything starts, so Ctrl-C during set-up also cleans up.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => void shutdown(`received ${signal}`, 0));
  }
  // npm forwards SIGINT and SIGTERM, but dies of SIGHUP or SIGKILL without telling us: then our parent pid changes.
  exitWithParentPid(() => void shutdown("the parent process exited", 0));
  // A closed terminal or pipe makes writes fail (EIO/EPIPE); that must not abort the clean-up.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);

  try {
    infra = await ensureInfrastructure({ databaseUrl: opts.databaseUrl, redisUrl: opts.redisUrl, dataDir: opts.dataDir, log, useLocalServers: !opts.privateServers, postgresPort: opts.pgPort, redisPort: opts.redisPort });
    if (stopping) return;
    const counts = await prepareDatabase(infra.databaseUrl);
    log(`demo catalogue loaded: ${counts.movies} movies, ${counts.genres} genres, ${counts.persons} people`);
    log(`demo population loaded: ${counts.population.users} viewers, ${counts.population.interactions} interactions`);
    await assertPortFree(opts.port);
    if (stopping) return;

    // The children inherit our environment (PATH, LOG_LEVEL, …) plus what the demo decided.
    const env = { ...process.env, DATABASE_URL: infra.databaseUrl, REDIS_URL: infra.redisUrl, PORT: String(opts.port) };
    for (const role of ["serve", "worker"] as const) {
      const child = startRole(role, env);
      children.push({ name: role, child });
      child.once("exit", (code, signal) => {
        if (!stopping) void shutdown(`${role} exited unexpectedly (${signal ?? `code ${code}`})`, 1);
      });
    }
    await waitUntilServing(opts.port, (children[0] as { child: ChildProcess }).child, 180_000); // generous: a busy machine starts slowly
    if (stopping) return;
    const journey = await newcomerJourney(`http://127.0.0.1:${opts.port}`);
    if (!stopping) printWelcome(opts, infra, counts, journey);
  } catch (err) {
    console.error(`[demo] ${err instanceof Error ? err.message : String(err)}`);
    await shutdown("start-up failed", 1);
  }
}

await main();
