/**
 * Item-kNN's pair sweep on several threads from synchronous code (training runs in a thread of its own, with no event
 * loop to spare): the matrices go into SharedArrayBuffers once; the caller and each helper take ranges of items from
 * a shared counter (ranges of about equal estimated work, but the cost of an item varies several-fold with how many
 * distinct items its users reach, so they are handed out one at a time), each into heaps of its own; the caller then
 * blocks on Atomics.wait until every helper that started is done, and merges. A helper that fails reports through a
 * MessageChannel read synchronously. One that never started took no range: the caller swept them all, so training
 * never waits for a thread it could not get.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import type { Csr } from "./csr.ts";
import { NeighbourHeaps, PairSweeper } from "./item-knn.ts";

/** Helper states in the shared flag array. */
export const PENDING = 0;
export const STARTED = 1;
export const DONE = 2;
export const FAILED = 3;

/** Ranges per thread: enough for the last ones to even out the threads' finishing times. */
const RANGES_PER_THREAD = 64;

/** What a helper thread is given (item-knn-thread.ts). */
export interface SweepTask {
  x: Csr;
  xt: Csr;
  norms: Float64Array;
  shrink: number;
  k: number;
  ranges: Int32Array;
  /** [0]: the next range to take. */
  counter: Int32Array;
  heaps: { sizes: Int32Array; ids: Int32Array; sims: Float64Array };
  flags: Int32Array;
  slot: number;
  port: MessagePort;
}

/**
 * Bounds of `parts` ranges of items with about equal sweep work, as [from0, from1, ..., items]: item a costs, per
 * user of a, the items after a in that user's row (what the sweep accumulates) plus one.
 */
export function equalWorkRanges(x: Csr, items: number, parts: number): Int32Array {
  const work = new Float64Array(items);
  let total = 0;
  for (let u = 0; u < x.rows; u++) {
    const end = x.indptr[u + 1];
    for (let q = x.indptr[u]; q < end; q++) {
      work[x.indices[q]] += end - q;
      total += end - q;
    }
  }
  const bounds = [0];
  let done = 0;
  for (let a = 0; a < items - 1; a++) {
    done += work[a];
    if (done >= (total * bounds.length) / parts) bounds.push(a + 1);
  }
  bounds.push(items);
  return Int32Array.from(bounds);
}

/** Takes ranges from the counter until none are left. */
export function sweepTakenRanges(sweeper: PairSweeper, ranges: Int32Array, counter: Int32Array, heaps: NeighbourHeaps): void {
  for (;;) {
    const r = Atomics.add(counter, 0, 1);
    if (r >= ranges.length - 1) return;
    sweeper.sweep(ranges[r], ranges[r + 1], heaps);
  }
}

function shared<T extends Int32Array | Float32Array | Float64Array>(a: T): T {
  const ctor = a.constructor as { new (b: SharedArrayBuffer): T };
  const out = new ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

const sharedCsr = (m: Csr): Csr => ({ rows: m.rows, cols: m.cols, indptr: shared(m.indptr), indices: shared(m.indices), data: shared(m.data) });

export function sweepInThreads(x: Csr, xt: Csr, norms: Float64Array, k: number, shrink: number, threads: number): Csr {
  const items = xt.rows;
  const ranges = shared(equalWorkRanges(x, items, threads * RANGES_PER_THREAD));
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const flags = new Int32Array(new SharedArrayBuffer(4 * threads));
  const common = { x: sharedCsr(x), xt: sharedCsr(xt), norms: shared(norms), shrink, k, ranges, counter, flags };
  const helpers = Array.from({ length: threads - 1 }, (_, h) => {
    const slot = h + 1;
    const heaps = {
      sizes: new Int32Array(new SharedArrayBuffer(4 * items)),
      ids: new Int32Array(new SharedArrayBuffer(4 * items * k)),
      sims: new Float64Array(new SharedArrayBuffer(8 * items * k)),
    };
    const { port1, port2 } = new MessageChannel();
    const task: SweepTask = { ...common, heaps, slot, port: port2 };
    const worker = new Worker(new URL("./item-knn-thread.ts", import.meta.url), { workerData: task, transferList: [port2] });
    worker.unref();
    return { slot, heaps, port: port1, worker };
  });
  const result = new NeighbourHeaps(items, k);
  sweepTakenRanges(new PairSweeper(common.x, common.xt, common.norms, shrink), ranges, counter, result);
  try {
    for (const h of helpers) {
      for (;;) {
        const state = Atomics.load(flags, h.slot);
        // Never started: every range is taken (this thread took what it did not), so it will find none.
        if (state === PENDING) break;
        if (state === DONE) {
          result.merge(new NeighbourHeaps(items, k, h.heaps));
          break;
        }
        if (state === FAILED) {
          const message = receiveMessageOnPort(h.port)?.message as { error?: string } | undefined;
          throw new Error(`item-kNN helper thread failed: ${message?.error ?? "no message"}`);
        }
        Atomics.wait(flags, h.slot, state, 1000);
      }
    }
  } finally {
    for (const h of helpers) {
      h.port.close();
      void h.worker.terminate();
    }
  }
  return result.toCsr();
}
