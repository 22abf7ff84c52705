/** Types for `cluster-key-slot` (ioredis's own slot function; the package ships none). */
declare module "cluster-key-slot" {
  /** The Redis Cluster slot (0–16383) of a key: CRC16 of its hash tag, or of the whole key when it has none. */
  export default function calculateSlot(key: string | Buffer): number;
}
