/** The real API server (the app's own wiring, auth included) and a Connect client of its CatalogService. */
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { CatalogService } from "../../gen/movierec/catalog/v1/catalog_service_pb.js";
import type { AppDeps } from "../../src/server/app-deps.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

export interface CatalogTestServer {
  ts: TestServer;
  /** The dependencies the server runs on (fixtures use its ORM). */
  deps: AppDeps;
  client: Client<typeof CatalogService>;
  close(): Promise<void>;
}

export async function startCatalogServer(): Promise<CatalogTestServer> {
  const ts = await startTestServer();
  return {
    ts,
    deps: ts.deps,
    client: createClient(CatalogService, createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" })),
    close: () => ts.close(),
  };
}
