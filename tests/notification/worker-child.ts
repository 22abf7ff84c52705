/**
 * A delivery worker process for the crash test: the real module and BullMQ worker, configured from its
 * environment like `npm run worker`. Prints "ready" once it takes jobs; the test SIGKILLs or SIGTERMs it.
 */
import { loadConfig } from "../../src/platform/config.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createNotificationModule } from "../../src/modules/notification/index.ts";
import { closeAppDeps, openAppDeps } from "../../src/server/app-deps.ts";
import { startWorkers } from "../../src/worker/workers.ts";

const config = loadConfig();
const log = createLogger({ level: config.logLevel });
const deps = await openAppDeps(config, log);
const m = createNotificationModule(deps);
await m.schedule();
const workers = startWorkers({ redisUrl: config.redisUrl, prefix: config.redisPrefix, log, processors: { delivery: m.processors }, concurrency: 4 });
await Promise.all(workers.workers.map((w) => w.waitUntilReady()));
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  void (async () => {
    await workers.close();
    m.close();
    await closeAppDeps(deps);
    process.exit(0);
  })();
});
