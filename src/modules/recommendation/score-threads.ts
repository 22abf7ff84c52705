/**
 * Scoring threads: batch scoring's compute (user-lists.ts) on worker threads, so a worker process scores on every core
 * while its own thread reads histories and writes lists. Measured before: the worker's thread was the one busy core
 * of a full run, PostgreSQL used little of the other.
 *
 * One pool per model version, kept while batches keep coming (a full run's ranges reuse it) and closed after a short
 * idle time — a run on the previous model keeps its pool while the new model's batches start. Each thread gets the
 * model once (structured clone, copied); a batch goes to the thread with the fewest batches pending. A thread that dies fails its pending batches (their transactions roll back,
 * the jobs retry) and is replaced for the next batch.
 */
import { Worker } from "node:worker_threads";
import type { StoredModel } from "./model-artefact.ts";
import type { UserState } from "./training-data.ts";
import { unpackLists, type BatchLists, type PackedLists } from "./user-lists.ts";

/** A pool unused this long is closed (its threads hold a copy of the model each). */
const IDLE_MS = 30_000;

type Reply = { id: number; out: PackedLists } | { id: number; error: string };

interface Thread {
  worker: Worker;
  pending: Map<number, { resolve: (out: BatchLists) => void; reject: (err: Error) => void }>;
}

export class ScoringThreads {
  readonly #stored: StoredModel;
  readonly #threads: (Thread | null)[];
  readonly #onIdle: () => void;
  #nextId = 0;
  #idle: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(stored: StoredModel, size: number, onIdle: () => void = () => {}) {
    this.#onIdle = onIdle;
    this.#stored = stored;
    this.#threads = Array.from({ length: size }, () => null);
  }

  /** The lists of `ids` (in that order), computed on the least busy thread. */
  compute(ids: readonly string[], states: ReadonlyMap<string, UserState>, topN: number): Promise<BatchLists> {
    if (this.#closed) return Promise.reject(new Error("scoring threads closed"));
    this.#touch();
    let slot = 0;
    for (let t = 1; t < this.#threads.length; t++) if ((this.#threads[t]?.pending.size ?? 0) < (this.#threads[slot]?.pending.size ?? 0)) slot = t;
    const thread = (this.#threads[slot] ??= this.#spawn(slot));
    const id = this.#nextId++;
    const batch = new Map(ids.map((u) => [u, states.get(u)!]));
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.ref();
      thread.worker.postMessage({ id, ids, states: batch, topN });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#idle) clearTimeout(this.#idle);
    await Promise.all(this.#threads.map((t) => t?.worker.terminate()));
  }

  #spawn(slot: number): Thread {
    const worker = new Worker(new URL("./score-thread.ts", import.meta.url), { workerData: { stored: this.#stored } });
    const thread: Thread = { worker, pending: new Map() };
    const fail = (err: Error) => {
      if (this.#threads[slot] === thread) this.#threads[slot] = null;
      for (const p of thread.pending.values()) p.reject(err);
      thread.pending.clear();
    };
    worker.on("message", (m: Reply) => {
      const p = thread.pending.get(m.id);
      if (!p) return;
      thread.pending.delete(m.id);
      if (thread.pending.size === 0) worker.unref();
      if ("error" in m) p.reject(new Error(`scoring thread: ${m.error}`));
      else p.resolve(unpackLists(this.#stored, m.out));
    });
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`scoring thread exited with code ${code}`)));
    // Referenced only while it has batches: an idle pool must not keep the process alive.
    worker.unref();
    return thread;
  }

  #touch(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      // Not while batches are pending (one may outlast the idle time on a loaded machine).
      if (this.#threads.some((t) => t !== null && t.pending.size > 0)) return this.#touch();
      this.#onIdle();
      void this.close();
    }, IDLE_MS);
    this.#idle.unref();
  }
}

/** Open pools by model version and size: a run on the old model keeps its pool while batches of the new one start. */
const pools = new Map<string, ScoringThreads>();

/** The pool for this model version and size (each closes itself once idle). */
export function scoringThreadsFor(stored: StoredModel, size: number): ScoringThreads {
  const key = `${stored.meta.version}:${size}`;
  let pool = pools.get(key);
  if (!pool) pools.set(key, (pool = new ScoringThreads(stored, size, () => pools.delete(key))));
  return pool;
}
