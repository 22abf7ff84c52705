/**
 * `node src/bench/profile-summary.ts FILE.cpuprofile [--top 40]`: a V8 CPU profile's self time by function and by
 * source file (our modules, each package, node internals, GC and idle), so a bench's profile reads in a terminal.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ options: { top: { type: "string", default: "40" } }, allowPositionals: true });

/** Where a frame's code lives: our file (relative), an npm package, node internals, or V8's own (GC, idle). */
function origin(url: string, name: string): string {
  if (!url) return `(${name || "anonymous"})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith("node:")) return "node internals";
  const ours = /\/(src\/.*|gen\/.*)$/.exec(url);
  return ours ? ours[1]! : url;
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, k) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[k] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    const o = origin(f.url, f.functionName);
    const key = `${f.functionName || "(anonymous)"}  ${o}${f.url ? `:${f.lineNumber + 1}` : ""}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byOrigin.set(o, (byOrigin.get(o) ?? 0) + us);
  }
  const top = Number(values.top);
  const show = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  };
  console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
  show("self time by origin", byOrigin);
  show("self time by function", byFunction);
}
