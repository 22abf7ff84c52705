/**
 * Resolves with `fallback` if `promise` has not settled within `ms`.
 *
 * The deadline measures the callee, not our own event loop: when the timer fires it waits for the loop's next I/O
 * phase (setImmediate runs after it) before giving up, so an answer that arrived while the loop was busy — and sits
 * unread in its socket — still wins. Without that, a saturated server's timers (which run before I/O in each loop
 * turn) declared Redis late on most calls, and every cache read fell back to PostgreSQL exactly when the server
 * could least afford it (seen in bench:serving: 22 calls queued for a connection during a cached GetMovie run).
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  try {
    return await Promise.race([promise, new Promise<T>((resolve) => (timer = setTimeout(() => (immediate = setImmediate(() => resolve(fallback))), ms)))]);
  } finally {
    clearTimeout(timer);
    clearImmediate(immediate);
  }
}
