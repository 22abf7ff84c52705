/** The body of a scoring thread (score-threads.ts): computes batches' lists with the model it was started with. */
import { parentPort, workerData } from "node:worker_threads";
import type { StoredModel } from "./model-artefact.ts";
import type { UserState } from "./training-data.ts";
import { createUserListsScratch, ListPacker, packedBuffers } from "./user-lists.ts";

const port = parentPort;
if (!port) throw new Error("score-thread.ts runs only as a worker thread");
const { stored } = workerData as { stored: StoredModel };
const scratch = createUserListsScratch(stored);

port.on("message", (m: { id: number; ids: string[]; states: Map<string, UserState>; topN: number }) => {
  try {
    const packer = new ListPacker();
    for (const userId of m.ids) packer.add(stored, userId, m.states.get(userId)!, m.topN, scratch);
    const out = packer.done();
    port.postMessage({ id: m.id, out }, packedBuffers(out));
  } catch (err) {
    port.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
  }
});
