/**
 * Opaque page tokens: base64url JSON of the last row's sort key and id, plus a fingerprint of the
 * request that produced them. Keyset pagination (rather than offsets) keeps pages stable when rows
 * are inserted between two calls; the fingerprint makes a token replayed with other filters an
 * INVALID_ARGUMENT instead of a silently wrong page.
 */
import { createHash } from "node:crypto";
import { InvalidInputError } from "../../platform/errors.ts";

/** Sort key of the last row of a page: a number, a string, or null (rows without a value, listed last). */
export type CursorKey = number | string | null;

export interface Cursor {
  key: CursorKey;
  id: string;
}

/** Default and maximum page sizes of the catalogue's lists. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** 0 means the default; oversized requests are reduced to the maximum (AIP-158), never refused. */
export function pageSize(requested: number | undefined, max = MAX_PAGE_SIZE, fallback = DEFAULT_PAGE_SIZE): number {
  if (!requested || requested <= 0) return fallback;
  return Math.min(Math.floor(requested), max);
}

/** A short stable hash of whatever defines the result set (filters, order, query). */
export function fingerprint(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("base64url").slice(0, 12);
}

/** Encodes the position after `last` for the request identified by `fp`. */
export function encodeCursor(cursor: Cursor, fp: string): string {
  return Buffer.from(JSON.stringify({ k: cursor.key, i: cursor.id, f: fp })).toString("base64url");
}

/** Decodes a token; "" means the first page. Throws INVALID_ARGUMENT for a foreign or tampered token. */
export function decodeCursor(token: string, fp: string, field = "page_token"): Cursor | undefined {
  if (token === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw new InvalidInputError("is not a token returned by this method", field);
  }
  const p = parsed as { k?: unknown; i?: unknown; f?: unknown } | null;
  const keyOk = p !== null && typeof p === "object" && (p.k === null || typeof p.k === "string" || (typeof p.k === "number" && Number.isFinite(p.k)));
  if (!keyOk || typeof p.i !== "string" || !/^[1-9][0-9]{0,18}$/.test(p.i) || typeof p.f !== "string") {
    throw new InvalidInputError("is not a token returned by this method", field);
  }
  if (p.f !== fp) throw new InvalidInputError("belongs to a request with other filters or order", field);
  if (typeof p.k === "string" && p.k.length > 400) throw new InvalidInputError("is not a token returned by this method", field);
  return { key: p.k as CursorKey, id: p.i };
}
