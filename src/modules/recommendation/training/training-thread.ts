/**
 * The body of the training thread (worker_threads): receives a FitInput, posts progress and then the FitOutput, with the
 * model's typed arrays transferred, not copied. A separate thread so the worker's event loop keeps renewing BullMQ
 * locks, running other jobs and answering health checks while a fit takes minutes.
 */
import { parentPort, workerData } from "node:worker_threads";
import { fitModel, type FitInput } from "./fit-model.ts";
import { transferablesOf } from "./fit-in-thread.ts";

const port = parentPort;
if (!port) throw new Error("training-thread.ts runs only as a worker thread");
try {
  const out = fitModel(workerData as FitInput, (p) => port.postMessage({ kind: "progress", progress: p }));
  port.postMessage({ kind: "result", out }, transferablesOf(out.model));
} catch (err) {
  port.postMessage({ kind: "error", message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined });
}
