/** A real API server whose CatalogService is this module's, and a Connect client of it. */
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import { createCatalogRpc } from "../../src/modules/catalog/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { closeAppDeps, openAppDeps, type AppDeps } from "../../src/server/app-deps.ts";
import { EMPTY_IMPLS } from "../../src/server/services.ts";
import { startTestServer, testConfig, type TestServer } from "../support/server.ts";

export interface CatalogTestServer {
  ts: TestServer;
  /** The dependencies the catalogue handlers run on (fixtures use its ORM). */
  deps: AppDeps;
  client: Client<typeof CatalogService>;
  close(): Promise<void>;
}

/** Starts the server with the catalogue's handlers built from dependencies of their own. */
export async function startCatalogServer(): Promise<CatalogTestServer> {
  const deps = await openAppDeps(testConfig(), createLogger({ level: "silent" }));
  const ts = await startTestServer({ impls: { ...EMPTY_IMPLS, catalog: createCatalogRpc(deps) } });
  return {
    ts,
    deps,
    client: createClient(CatalogService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" })),
    async close() {
      await ts.close();
      await closeAppDeps(deps);
    },
  };
}
