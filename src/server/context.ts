import { createContextKey } from "@connectrpc/connect";
import type { Logger } from "../platform/logger.ts";

/** The id of the current request: from `x-request-id` when the caller sent a sane one, else generated. */
export const requestIdKey = createContextKey<string>("", { description: "request id" });

/** A child logger carrying `{ rpc, requestId }`; handlers log through it. */
export const requestLoggerKey = createContextKey<Logger | undefined>(undefined, { description: "request logger" });
