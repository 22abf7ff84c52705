import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { maskFieldsOf, unknownPaths, unknownPathsMessage } from "../field-masks.ts";

/**
 * True when the request message came as protobuf JSON: a `…json` content type (Connect, gRPC-Web or gRPC with
 * JSON), or a Connect GET with `encoding=json`.
 */
export function isJsonRequest(req: { header: Headers; requestMethod: string; url: string }): boolean {
  if (req.requestMethod === "GET") return new URL(req.url, "http://x").searchParams.get("encoding") === "json";
  return /json/i.test(req.header.get("content-type") ?? "");
}

/**
 * Refuses update-mask paths outside the field's `field_mask.in` rule before protovalidate does, so the allowed paths
 * are listed as the caller must write them: lowerCamelCase for JSON callers, proto names for binary ones (see
 * field-masks.ts). Update methods are unary; streams pass through.
 */
export function fieldMaskInterceptor(): Interceptor {
  return (next) => (req) => {
    if (req.stream) return next(req);
    for (const mask of maskFieldsOf(req.method.input)) {
      const value = (req.message as Record<string, unknown>)[mask.field.localName] as { paths?: string[] } | undefined;
      const unknown = unknownPaths(mask, value?.paths ?? []);
      if (unknown.length === 0) continue;
      const err = new ConnectError(unknownPathsMessage(mask, unknown, isJsonRequest(req)), Code.InvalidArgument);
      err.metadata.set("x-invalid-field", mask.field.name);
      throw err;
    }
    return next(req);
  };
}
