/**
 * The conditions a figure was measured under, printed by every bench (and by `npm run import` / `npm run eval`), so a
 * number copied into README.md carries the machine and its load with it: a figure taken at load 24 on 2 cores means
 * something else than one taken on an idle machine.
 */
import { cpus, loadavg, totalmem } from "node:os";

/** "load average 1.2 / 0.9 / 0.7 (1/5/15 min) on 2 cores" */
export function loadLine(): string {
  return `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" / ")} (1/5/15 min) on ${cpus().length} cores`;
}

/** One line naming the machine, Node and the load now. */
export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? "?";
  return `machine: ${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; ${loadLine()}`;
}
