/**
 * The Node request handler for the RPC routes: connect-node's `connectNodeAdapter`, plus two things it cannot do.
 *
 * 1. A request id for every call, assigned before the body is read (the caller's sane `x-request-id`, else a new
 *    UUID) and echoed on every response — also those that fail before the interceptors run.
 * 2. Malformed protobuf bytes are INVALID_ARGUMENT. connect-es parses the request message before any interceptor
 *    and reports a parse failure as INTERNAL ("parse binary: …"), as if the server were at fault; the caller sent
 *    bytes that are not the message. Those answers are corrected here (gRPC trailers, Connect unary error bodies)
 *    and logged with the request id, since the access-log interceptor never saw the call.
 *    gRPC-Web and Connect streaming keep connect-es's code: their status travels inside the body.
 * 3. A JSON field mask the parser refused (`{"paths": […]}`, snake_case paths) is answered with the form that works
 *    and the allowed paths (field-masks.ts) instead of protobuf-es's "cannot decode message … FieldMask from JSON".
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { Code, createConnectRouter } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
  type ConnectNodeAdapterOptions,
} from "@connectrpc/connect-node";
import type { Logger } from "../platform/logger.ts";
import { requestIdKey } from "./context.ts";
import { jsonMaskFormMessage } from "./field-masks.ts";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const PARSE_FAILURE = /^parse binary: /;
const MASK_JSON_FAILURE = /cannot decode message google\.protobuf\.FieldMask from JSON/;

type NodeReq = IncomingMessage | Http2ServerRequest;
type NodeRes = ServerResponse | Http2ServerResponse;

/** connectNodeAdapter with request ids on every response and malformed input answered INVALID_ARGUMENT. */
export function rpcAdapter(options: ConnectNodeAdapterOptions & { log: Logger }): (req: NodeReq, res: NodeRes) => void {
  const router = createConnectRouter({ acceptCompression: [compressionGzip, compressionBrotli], ...options });
  options.routes(router);
  const handlers = new Map(router.handlers.map((h) => [h.requestPath, h]));
  return (req, res) => {
    const handler = handlers.get((req.url ?? "").split("?", 2)[0] ?? "");
    if (!handler) {
      if (options.fallback) options.fallback(req as never, res as never);
      else {
        (res as ServerResponse).writeHead(404);
        res.end();
      }
      return;
    }
    const started = performance.now();
    const sent = req.headers["x-request-id"];
    const requestId = typeof sent === "string" && REQUEST_ID.test(sent) ? sent : randomUUID();
    res.setHeader("x-request-id", requestId);
    const contextValues = options.contextValues?.(req as never);
    contextValues?.set(requestIdKey, requestId);
    const log = options.log.child({ rpc: `${handler.service.typeName}/${handler.method.name}`, requestId });
    const uReq = universalRequestFromNodeRequest(req as never, res as never, undefined, contextValues);
    handler(uReq)
      .then((uRes) => correctParseFailure(uRes, log, started, jsonMaskFormMessage(handler.method.input)))
      .then((uRes) => universalResponseToNodeResponse(uRes, res as never))
      .catch((reason: unknown) => {
        if ((reason as { code?: unknown })?.code === Code.Aborted) return;
        log.error({ err: reason }, "rpc handler failed outside the interceptors");
      });
  };
}

// The access-log line of a call the interceptors never saw: same fields (code, duration, request id via `log`).
const malformed = (log: Logger, detail: string, started: number) => {
  const durationMs = Math.round((performance.now() - started) * 100) / 100;
  log.info({ code: "InvalidArgument", durationMs, protocol: "binary", detail }, "rpc rejected: malformed request message");
  return `malformed request message: ${detail}`;
};

/**
 * Rewrites connect-es's INTERNAL "parse binary: …" into INVALID_ARGUMENT, and a refused JSON field mask into
 * `maskHelp` (when the method has a mask); any other response passes unchanged.
 */
async function correctParseFailure(uRes: UniversalServerResponse, log: Logger, started: number, maskHelp: string | undefined): Promise<UniversalServerResponse> {
  const body = uRes.body;
  if (!body || !(Symbol.asyncIterator in body)) return uRes;
  // Connect unary errors: a small JSON body with a 500 status.
  if ((uRes.status === 500 || (uRes.status === 400 && maskHelp)) && (uRes.header?.get("content-type") ?? "").startsWith("application/json") && !uRes.header?.get("content-encoding")) {
    const chunks: Uint8Array[] = [];
    for await (const c of body) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    let err: { code?: string; message?: string } | undefined;
    try {
      err = JSON.parse(bytes.toString("utf8")) as typeof err;
    } catch {
      err = undefined;
    }
    let message: string;
    if (err?.code === "internal" && PARSE_FAILURE.test(err.message ?? "")) message = malformed(log, err.message!.replace(PARSE_FAILURE, ""), started);
    else if (err?.code === "invalid_argument" && maskHelp && MASK_JSON_FAILURE.test(err.message ?? "")) message = maskHelp;
    else return { ...uRes, body: (async function* () { yield bytes; })() };
    const fixed = Buffer.from(JSON.stringify({ code: "invalid_argument", message }));
    uRes.header!.set("content-length", String(fixed.byteLength));
    return { ...uRes, status: 400, body: (async function* () { yield fixed; })() };
  }
  // gRPC: the status is in the trailers, final once the body has ended.
  const trailer = uRes.trailer;
  if (!trailer) return uRes;
  return {
    ...uRes,
    body: (async function* () {
      yield* body;
      const sent = trailer.get("grpc-message");
      if (sent === null) return;
      let message = decodeURIComponent(sent);
      if (trailer.get("grpc-status") === String(Code.Internal) && PARSE_FAILURE.test(message)) {
        trailer.set("grpc-status", String(Code.InvalidArgument));
        message = malformed(log, message.replace(PARSE_FAILURE, ""), started);
      }
      trailer.set("grpc-message", grpcMessageEncode(message));
    })(),
  };
}

/**
 * Percent-encodes a grpc-message as the gRPC spec asks: only bytes outside printable ASCII, and "%". connect-es
 * uses encodeURIComponent, and @grpc/grpc-js decodes with decodeURI, which leaves %3A, %2C, %3B … encoded: a
 * grpc-js caller read "update_mask%3A unknown path". Both decoders read this form correctly.
 */
export function grpcMessageEncode(message: string): string {
  return message.replace(/[^\x20-\x24\x26-\x7e]+/gu, (s) =>
    Array.from(Buffer.from(s, "utf8"), (b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""),
  );
}
