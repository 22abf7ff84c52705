/**
 * The one page-token format and page-size rule of every list method (AIP-158).
 *
 * A token is base64url JSON `[fingerprint, ...parts]`: the keyset position after the last row of a page, plus a
 * fingerprint of the filters and order that produced it. Tokens are opaque to callers but not secret, so a decoded
 * token is untrusted input: every part is checked against the shape its list expects (a decimal id that fits bigint,
 * a valid timestamp, a finite number, bounded text) before it reaches SQL. Anything else — garbage, a token of
 * another list or other filters, a forged value — is INVALID_ARGUMENT "page_token: invalid page token…".
 */
import { InvalidInputError } from "./errors.ts";

/** What one position of a token holds. `key` is a sort key: a finite number, bounded text, or null. */
export type TokenPart = "id" | "time" | "text" | "number" | "key";

type PartValue<P extends TokenPart> = P extends "id" | "time" | "text" ? string : P extends "number" ? number : number | string | null;
/** The decoded parts of a token of shape S, in order. */
export type TokenValues<S extends readonly TokenPart[]> = { -readonly [I in keyof S]: PartValue<S[I]> };

const INT8_MAX = "9223372036854775807";
const ID = /^[1-9][0-9]{0,18}$/;
const MAX_TEXT = 400;

/** True for a decimal id that PostgreSQL's bigint can hold. */
export function isBigintId(value: string): boolean {
  return ID.test(value) && (value.length < INT8_MAX.length || value <= INT8_MAX);
}

function partOk(kind: TokenPart, v: unknown): boolean {
  switch (kind) {
    case "id":
      return typeof v === "string" && isBigintId(v);
    case "time":
      return typeof v === "string" && v.length <= 40 && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));
    case "text":
      return typeof v === "string" && v.length <= MAX_TEXT && !v.includes("\0");
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "key":
      return v === null || partOk("number", v) || partOk("text", v);
  }
}

/** Encodes the position after a page's last row; `fingerprint` identifies the filters and order. */
export function encodePageToken(parts: readonly unknown[], fingerprint = ""): string {
  return Buffer.from(JSON.stringify([fingerprint, ...parts])).toString("base64url");
}

/**
 * Decodes a token made by encodePageToken with the same shape and fingerprint; "" (the first page) gives undefined.
 * Throws InvalidInputError naming `field` for anything else.
 */
export function decodePageToken<const S extends readonly TokenPart[]>(token: string, shape: S, fingerprint = "", field = "page_token"): TokenValues<S> | undefined {
  if (token === "") return undefined;
  const invalid = (why = "") => new InvalidInputError(`invalid page token${why}`, field);
  if (token.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(token)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length + 1 || typeof parsed[0] !== "string") throw invalid();
  if (parsed[0] !== fingerprint) throw invalid(" (it belongs to a request with other filters or order)");
  const parts = parsed.slice(1);
  if (!shape.every((kind, i) => partOk(kind, parts[i]))) throw invalid();
  return parts as TokenValues<S>;
}

/**
 * The page size to use (AIP-158): 0 (unset) means `fallback`, above `max` is reduced to `max`, negative is
 * INVALID_ARGUMENT.
 */
export function pageSize(requested: number | undefined, opts: { fallback: number; max: number }, field = "page_size"): number {
  const n = requested ?? 0;
  if (n < 0) throw new InvalidInputError("must not be negative", field);
  if (n === 0) return opts.fallback;
  return Math.min(Math.floor(n), opts.max);
}
