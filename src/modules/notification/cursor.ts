/** Opaque page tokens: base64url JSON of the last row's sort key, rejected as INVALID_ARGUMENT when tampered. */
import { InvalidInputError } from "../../platform/errors.ts";

export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

export function decodeCursor(token: string, arity: number): unknown[] | undefined {
  if (token === "") return undefined;
  try {
    const key = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(key) && key.length === arity) return key;
  } catch {
    // falls through
  }
  throw new InvalidInputError("invalid page token", "page_token");
}

/** 0 → default, above the maximum → the maximum (AIP-158). */
export function pageSize(requested: number, fallback = 50, max = 200): number {
  return requested <= 0 ? fallback : Math.min(requested, max);
}
