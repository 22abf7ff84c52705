/**
 * Opaque page tokens: base64url JSON of the last row's sort key and id, plus a fingerprint of the
 * request that produced them. Keyset pagination (rather than offsets) keeps pages stable when rows
 * are inserted between two calls; the fingerprint makes a token replayed with other filters an
 * INVALID_ARGUMENT instead of a silently wrong page. The format and its checks are platform/page-token.ts.
 */
import { createHash } from "node:crypto";
import { decodePageToken, encodePageToken, pageSize as sharedPageSize } from "../../platform/page-token.ts";

/** Sort key of the last row of a page: a number, a string, or null (rows without a value, listed last). */
export type CursorKey = number | string | null;

export interface Cursor {
  key: CursorKey;
  id: string;
}

/** Default and maximum page sizes of the catalogue's lists. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** 0 means the default; oversized requests are reduced to the maximum (AIP-158), negative ones refused. */
export function pageSize(requested: number | undefined, max = MAX_PAGE_SIZE, fallback = DEFAULT_PAGE_SIZE): number {
  return sharedPageSize(requested, { fallback, max });
}

/** A short stable hash of whatever defines the result set (filters, order, query). */
export function fingerprint(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("base64url").slice(0, 12);
}

/** Encodes the position after `last` for the request identified by `fp`. */
export function encodeCursor(cursor: Cursor, fp: string): string {
  return encodePageToken([cursor.key, cursor.id], fp);
}

/** Decodes a token; "" means the first page. Throws INVALID_ARGUMENT for a foreign or tampered token. */
export function decodeCursor(token: string, fp: string, field = "page_token"): Cursor | undefined {
  const parts = decodePageToken(token, ["key", "id"], fp, field);
  return parts && { key: parts[0], id: parts[1] };
}
