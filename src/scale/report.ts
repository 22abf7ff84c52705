/**
 * What `npm run test:scale` prints: a check that fails throws `ScaleCheckFailed` with what was expected and seen;
 * the figures each check measured are collected into one table printed at the end, with the load average beside
 * them (a figure taken on a busy 2-core machine means something else than one taken on an idle one).
 */
import { loadavg } from "node:os";

/** A check whose outcome was wrong (as opposed to a crash): the message says what was expected and what was seen. */
export class ScaleCheckFailed extends Error {
  override readonly name = "ScaleCheckFailed";
}

/** Throws ScaleCheckFailed with `message` unless `ok`. */
export function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new ScaleCheckFailed(message);
}

export interface Figure {
  step: string;
  what: string;
  value: string;
  /** 1-minute load average when the figure was taken. */
  load: number;
}

export class Figures {
  readonly rows: Figure[] = [];
  add(step: string, what: string, value: string): void {
    this.rows.push({ step, what, value, load: loadavg()[0] ?? 0 });
    console.log(`[scale] ${step}: ${what} = ${value}`);
  }
  /** A plain-text table: step | figure | value | load (1 min). */
  table(): string {
    const head = ["step", "figure", "value", "load"];
    const body = this.rows.map((r) => [r.step, r.what, r.value, r.load.toFixed(1)]);
    const widths = head.map((h, k) => Math.max(h.length, ...body.map((row) => (row[k] ?? "").length)));
    const line = (cells: string[]) => `| ${cells.map((c, k) => c.padEnd(widths[k] ?? 0)).join(" | ")} |`;
    return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
  }
}

/** Milliseconds since `t0` (performance.now()), rounded. */
export const msSince = (t0: number): number => Math.round(performance.now() - t0);
