import type { IncomingMessage, ServerResponse } from "node:http";

// What Connect, gRPC-Web and our own middleware need browsers to be allowed to send and read.
const ALLOWED_METHODS = "POST, GET, OPTIONS";
const ALLOWED_HEADERS = [
  "Content-Type", "Connect-Protocol-Version", "Connect-Timeout-Ms", "Connect-Accept-Encoding", "Connect-Content-Encoding",
  "Grpc-Timeout", "X-Grpc-Web", "X-User-Agent", "Authorization", "X-Request-Id",
].join(", ");
const EXPOSED_HEADERS = ["Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin", "X-Request-Id", "Retry-After"].join(", ");

// The HTTP/2 compatibility API has the same shape; callers pass either.
type Req = IncomingMessage;
type Res = ServerResponse;

/**
 * CORS for browser clients (Connect-Web, gRPC-Web). Returns true when the request was fully
 * answered here (a preflight, or a browser request from an origin we do not allow).
 */
export function handleCors(allowedOrigins: readonly string[], req: Req, res: Res): boolean {
  const origin = req.headers.origin;
  if (typeof origin !== "string") return false; // not a browser cross-origin request
  // The console (and any page this server serves) is same-origin: browsers still send Origin on module scripts and
  // POSTs, which is no cross-origin request and needs no allow-list entry.
  const host = req.headers.host ?? (req.headers as Record<string, string | undefined>)[":authority"];
  if (host !== undefined && URL.canParse(origin) && new URL(origin).host === host) return false;
  const allowed = allowedOrigins.includes("*") || allowedOrigins.includes(origin);
  const preflight = req.method === "OPTIONS";
  if (!allowed) {
    res.writeHead(403, { "content-type": "text/plain", vary: "Origin" });
    res.end(`origin ${origin} is not allowed`);
    return true;
  }
  res.setHeader("access-control-allow-origin", origin);
  res.setHeader("vary", "Origin");
  res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
  if (preflight) {
    res.writeHead(204, {
      "access-control-allow-methods": ALLOWED_METHODS,
      "access-control-allow-headers": ALLOWED_HEADERS,
      "access-control-max-age": "7200",
    });
    res.end();
    return true;
  }
  return false;
}
