/**
 * Deterministic bucketing: a user's variant is a pure function of their id, the experiment's salt and the variants'
 * shares, so every process (and every restart) puts them in the same variant with nothing stored per user, and a new
 * salt reshuffles everyone. The bucket is the first 8 bytes of SHA-256("<salt>:<user id>") modulo 10,000; variants
 * own consecutive ranges of buckets the size of their share in basis points.
 */
import { createHash } from "node:crypto";
import type { VariantSpec } from "./entities/index.ts";

export const BUCKETS = 10_000;

/** The user's bucket in [0, 10,000). */
export function bucketOf(userId: string, salt: string): number {
  const digest = createHash("sha256").update(`${salt}:${userId}`).digest();
  return Number(digest.readBigUInt64BE(0) % BigInt(BUCKETS));
}

/** The variant owning the user's bucket (variants' `shareBp` add up to 10,000). */
export function variantFor<V extends Pick<VariantSpec, "shareBp">>(userId: string, salt: string, variants: readonly V[]): V {
  const bucket = bucketOf(userId, salt);
  let end = 0;
  for (const v of variants) {
    end += v.shareBp;
    if (bucket < end) return v;
  }
  return variants[variants.length - 1]!;
}

/**
 * Shares (fractions adding up to 1 within 0.0001) in basis points adding up to exactly 10,000 (largest remainder);
 * undefined when they do not add up to 1 or one would get no bucket at all.
 */
export function sharesToBasisPoints(shares: readonly number[]): number[] | undefined {
  const sum = shares.reduce((a, b) => a + b, 0);
  if (!(Math.abs(sum - 1) <= 1e-4) || shares.some((s) => !(s > 0))) return undefined;
  const exact = shares.map((s) => (s / sum) * BUCKETS);
  const bp = exact.map(Math.floor);
  let left = BUCKETS - bp.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    bp[i]! += 1;
  }
  return bp.some((b) => b === 0) ? undefined : bp;
}
