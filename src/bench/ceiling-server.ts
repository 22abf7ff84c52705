/**
 * The ceiling of `npm run bench:serving`: the same stack as the API server (one port with HTTP/2 sniffing,
 * DualProtocolListener, connect-node's adapter with gRPC, gRPC-Web and Connect) but no interceptors, no storage and no
 * logic: each method answers a canned response captured from the real server. Whatever the real server loses
 * against it is the cost of our own code (auth, validation, logging, metrics, Redis, PostgreSQL, mapping).
 *
 * `node src/bench/ceiling-server.ts <canned.json>`: the file maps "package.Service/Method" to the base64 protobuf
 * of the response; prints one JSON line `{"port": N}` once listening on 127.0.0.1, and exits on SIGTERM.
 */
import { readFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { DualProtocolListener } from "../server/listener.ts";
import { API_SERVICES } from "../server/services.ts";

/** The connect-node handler answering every canned method with its decoded response. */
export function ceilingHandler(canned: Record<string, string>) {
  const routes = (router: ConnectRouter) => {
    for (const [path, b64] of Object.entries(canned)) {
      const [serviceName, methodName] = path.split("/");
      const service = API_SERVICES.find((s) => s.typeName === serviceName);
      const method = service?.methods.find((m) => m.name === methodName);
      if (!method || method.methodKind !== "unary") throw new Error(`no unary method ${path}`);
      const response = fromBinary(method.output, Buffer.from(b64, "base64"));
      router.rpc(method, (() => response) as never);
    }
  };
  return connectNodeAdapter({ routes, grpc: true, grpcWeb: true, connect: true });
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node src/bench/ceiling-server.ts <canned.json>");
    process.exit(2);
  }
  const listener = new DualProtocolListener(ceilingHandler(JSON.parse(readFileSync(file, "utf8")) as Record<string, string>) as never);
  const port = await listener.listen(Number(process.env.PORT ?? 0), "127.0.0.1");
  console.log(JSON.stringify({ port }));
  process.on("SIGTERM", () => void listener.close(1000).then(() => process.exit(0)));
}
