/** Page tokens and sizes of the notification lists: the shared format of platform/page-token.ts. */
import { pageSize as sharedPageSize } from "../../platform/page-token.ts";

export { decodePageToken, encodePageToken } from "../../platform/page-token.ts";

/** 0 → default, above the maximum → the maximum, negative → INVALID_ARGUMENT (AIP-158). */
export function pageSize(requested: number, fallback = 50, max = 200): number {
  return sharedPageSize(requested, { fallback, max });
}
