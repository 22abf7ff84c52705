/** Runs fitModel in a worker thread (see training-thread.ts for why) and resolves with its output. */
import { Worker } from "node:worker_threads";
import type { Recommender } from "../algorithms/recommender.ts";
import type { FitInput, FitOutput, FitProgress } from "./fit-model.ts";

type Message = { kind: "progress"; progress: FitProgress } | { kind: "result"; out: FitOutput } | { kind: "error"; message: string; stack?: string };

/** Fits in a fresh thread; the input's typed arrays are copied into it (the caller keeps its own). */
export function fitInThread(input: FitInput, onProgress: (p: FitProgress) => void = () => {}): Promise<FitOutput> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./training-thread.ts", import.meta.url), { workerData: input });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      void worker.terminate();
    };
    worker.on("message", (m: Message) => {
      if (m.kind === "progress") onProgress(m.progress);
      else if (m.kind === "result") settle(() => resolve(m.out));
      else settle(() => reject(Object.assign(new Error(m.message), { stack: m.stack ?? m.message })));
    });
    worker.on("error", (err) => settle(() => reject(err)));
    worker.on("exit", (code) => settle(() => reject(new Error(`training thread exited with code ${code} before answering`))));
  });
}

/** The buffers of a model's typed arrays, to move them out of the thread without copying. */
export function transferablesOf(model: Recommender): ArrayBuffer[] {
  const arrays = [model.ease.items, model.ease.position, model.ease.weights, model.knn.indptr, model.knn.indices, model.knn.data, model.trending, model.popularity];
  if (model.content) arrays.push(model.content.items.indptr, model.content.items.indices, model.content.items.data, model.content.byFeature.indptr, model.content.byFeature.indices, model.content.byFeature.data);
  const seen = new Set<ArrayBuffer>();
  for (const a of arrays) if (a.buffer instanceof ArrayBuffer && a.byteLength === a.buffer.byteLength) seen.add(a.buffer);
  return [...seen];
}
