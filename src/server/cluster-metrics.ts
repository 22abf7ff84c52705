/**
 * `/metrics` across the processes of a cluster (see platform/process-cluster.ts). A scrape lands on any one copy; that
 * copy asks the primary, which collects every copy's registry over IPC with prom-client's AggregatorRegistry and
 * merges them (counters and histograms summed; gauges by the `aggregator` each one declares: a queue depth read from
 * Redis is the same in every copy and is taken once, pool connections add up). So one scrape sees the whole server.
 */
import cluster from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";

const REQ = "movierec:metrics-req";
const RES = "movierec:metrics-res";
const TIMEOUT_MS = 5000;

interface Reply {
  type: typeof RES;
  id: number;
  text?: string;
  error?: string;
}

/** In the primary: answers the copies' requests with the merged metrics of all copies. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on("message", (worker, m: { type?: string; id?: number }) => {
    if (m?.type !== REQ) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: RES, id: m.id!, text } satisfies Reply),
      (e: unknown) => worker.send({ type: RES, id: m.id!, error: String(e) } satisfies Reply),
    );
  });
}

/** In a copy: offers `registry` to the primary's aggregation and returns a function that fetches the merged text. */
export function clusterMetricsClient(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs prom-client's listener that answers the primary with this copy's registry
  const pending = new Map<number, { resolve: (t: string) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let next = 0;
  process.on("message", (m: Partial<Reply>) => {
    if (m?.type !== RES || m.id === undefined) return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else p.resolve(m.text ?? "");
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error("the primary did not answer the metrics request"));
      }, TIMEOUT_MS);
      pending.set(id, { resolve, reject, timer });
      process.send!({ type: REQ, id });
    });
}
