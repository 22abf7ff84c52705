/**
 * The abort signal of the call being served, visible to the data layer without passing it through every function:
 * the deadline interceptor runs each call inside `runWithSignal`, and the PostgreSQL client (pg-client.ts) reads it
 * to cancel a statement still running when the caller's deadline passes or the caller goes away.
 * Work started outside a call (jobs, start-up) has no signal.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const scope = new AsyncLocalStorage<AbortSignal>();

/** Runs `fn` with `signal` as the current call's signal (for everything it awaits, too). */
export function runWithSignal<T>(signal: AbortSignal, fn: () => T): T {
  return scope.run(signal, fn);
}

/** The current call's signal, if the code runs on behalf of a call. */
export function currentSignal(): AbortSignal | undefined {
  return scope.getStore();
}

/**
 * Runs `fn` outside any call's signal: for work several calls share (a single-flight load that later callers join),
 * which one caller's deadline must not cancel under the others.
 */
export function runDetached<T>(fn: () => T): T {
  return scope.exit(fn);
}
