/** The body of an item-kNN helper thread (item-knn-threads.ts): sweeps the ranges it takes into its shared heaps. */
import { workerData } from "node:worker_threads";
import { NeighbourHeaps, PairSweeper } from "./item-knn.ts";
import { DONE, FAILED, STARTED, sweepTakenRanges, type SweepTask } from "./item-knn-threads.ts";

const task = workerData as SweepTask;
Atomics.store(task.flags, task.slot, STARTED);
try {
  const heaps = new NeighbourHeaps(task.xt.rows, task.k, task.heaps);
  sweepTakenRanges(new PairSweeper(task.x, task.xt, task.norms, task.shrink), task.ranges, task.counter, heaps);
  Atomics.store(task.flags, task.slot, DONE);
} catch (err) {
  task.port.postMessage({ error: err instanceof Error ? err.message : String(err) });
  Atomics.store(task.flags, task.slot, FAILED);
} finally {
  Atomics.notify(task.flags, task.slot);
  task.port.close();
}
