/** Bounded polling for tests and local tooling (fault tests, `npm run test:scale`): never a fixed sleep. */

/**
 * Polls `probe` until it returns a value other than undefined; fails with `what` after `timeoutMs`, adding what
 * `explain` says about the state then (a failure on a loaded CI machine must say where things stood).
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 50,
  explain?: () => Promise<string> | string,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) {
      const state = explain ? await Promise.resolve(explain()).catch((e: Error) => `(explain failed: ${e.message})`) : "";
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ""}${state ? `\n${state}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
