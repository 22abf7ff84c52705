import { randomUUID } from "node:crypto";
import { Code, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../../platform/logger.ts";
import { requestIdKey, requestLoggerKey } from "../context.ts";
import { observeCallEnd } from "./call-end.ts";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Outermost interceptor: assigns the request id, puts a child logger on the context,
 * echoes `x-request-id`, and writes one access-log line per call (method, code, duration).
 * Request and response bodies are never logged: they may hold passwords and tokens.
 */
export function accessLogInterceptor(log: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const sent = req.header.get("x-request-id");
    // Usually assigned already by the adapter (rpc-adapter.ts), before the body was read.
    const requestId = req.contextValues.get(requestIdKey) || (sent !== null && REQUEST_ID.test(sent) ? sent : randomUUID());
    const rpc = `${req.service.typeName}/${req.method.name}`;
    const reqLog = log.child({ rpc, requestId });
    req.contextValues.set(requestIdKey, requestId);
    req.contextValues.set(requestLoggerKey, reqLog);
    const done = (code: Code | 0) => {
      const durationMs = Math.round((performance.now() - started) * 100) / 100;
      const line = { code: code === 0 ? "OK" : Code[code], durationMs, protocol: req.requestMethod === "GET" ? "connect-get" : req.header.get("content-type") ?? "" };
      if (code === Code.Internal || code === Code.Unknown || code === Code.DataLoss) reqLog.error(line, "rpc failed");
      else reqLog.info(line, "rpc");
    };
    // The response header itself is set by rpc-adapter.ts before the body is read, for every outcome. Copying it into
    // an error's metadata as well made gRPC trailers-only answers carry it twice ("id, id").
    const res = await observeCallEnd(next(req), done);
    res.header.set("x-request-id", requestId);
    return res;
  };
}
