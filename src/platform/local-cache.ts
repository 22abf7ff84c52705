/**
 * In-process copies of hot Redis cache entries (a movie's details, a user's served list), kept briefly so the hottest
 * reads cost no round trip at all. On the 2-core dev machine a cached GetMovie spent more CPU on its one Redis read (a
 * loopback write that wakes Redis, the answer's event, the parse, the deadline timer) than on anything else of ours
 * (bench:serving --profile).
 *
 * Staleness is bounded twice over. Writers publish what they changed (cache-invalidation.ts) and every process drops
 * it on receipt; and an entry is trusted only for `ttlMs` after its read was *sent*, so whatever committed before
 * that read is in it and a lost message (a reconnect, a change made by hand) costs at most `ttlMs`. A fill that
 * started before an invalidation is not stored (the epoch): a read racing a write cannot put the old value back.
 *
 * Entries live in groups (a movie, a user), the unit of invalidation; a group holds values under sub-keys (a user's
 * lists per algorithm and genre). At most `maxGroups` groups are kept, the least recently filled dropped first.
 */

/** Taken before the read whose answer is stored: when it was sent and the epoch it saw. */
export interface FillTicket {
  readonly sentAt: number;
  readonly epoch: number;
}

interface Entry<V> {
  value: V;
  until: number;
}

export class LocalCache<V> {
  readonly #groups = new Map<string, Map<string, Entry<V>>>();
  readonly #ttlMs: number;
  readonly #maxGroups: number;
  readonly #now: () => number;
  #epoch = 0;

  constructor(opts: { ttlMs: number; maxGroups?: number; now?: () => number }) {
    this.#ttlMs = opts.ttlMs;
    this.#maxGroups = opts.maxGroups ?? 10_000;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** The value under (group, key) while it is fresh. */
  get(group: string, key = ""): V | undefined {
    const entry = this.#groups.get(group)?.get(key);
    if (entry === undefined) return undefined;
    if (entry.until > this.#now()) return entry.value;
    this.#groups.get(group)!.delete(key);
    return undefined;
  }

  ticket(): FillTicket {
    return { sentAt: this.#now(), epoch: this.#epoch };
  }

  /** Keeps `value` until `ttlMs` after the ticket's read was sent, unless something was invalidated since. */
  set(group: string, key: string, value: V, ticket: FillTicket): void {
    if (this.#ttlMs <= 0 || ticket.epoch !== this.#epoch) return;
    let entries = this.#groups.get(group);
    if (entries === undefined) {
      entries = new Map();
      this.#groups.set(group, entries);
      if (this.#groups.size > this.#maxGroups) this.#groups.delete(this.#groups.keys().next().value!);
    }
    entries.set(key, { value, until: ticket.sentAt + this.#ttlMs });
  }

  /** Drops these groups (every group when `groups` is undefined) and voids the fills in flight. */
  invalidate(groups?: readonly string[]): void {
    this.#epoch++;
    if (groups === undefined) this.#groups.clear();
    else for (const g of groups) this.#groups.delete(g);
  }

  /** Groups held (tests). */
  get size(): number {
    return this.#groups.size;
  }
}

/** Freezes a parsed JSON value all the way down (a local copy is shared by every call it answers). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
