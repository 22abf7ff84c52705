import { readFileSync } from "node:fs";
const [file, target, depthS] = process.argv.slice(2);
const depth = Number(depthS ?? 5);
const p = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map();
for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
const name = (n) => `${n.callFrame.functionName || "(anon)"}@${(n.callFrame.url.split("/").slice(-2).join("/"))}:${n.callFrame.lineNumber}`;
const agg = new Map();
let total = 0;
for (const n of p.nodes) {
  if (n.callFrame.functionName !== target) continue;
  const t = self.get(n.id) ?? 0; if (!t) continue;
  total += t;
  const chain = [];
  let id = parent.get(n.id);
  for (let d = 0; d < depth && id; d++) { chain.push(name(byId.get(id))); id = parent.get(id); }
  const k = chain.join(" < ");
  agg.set(k, (agg.get(k) ?? 0) + t);
}
console.log(`${target}: ${(total / 1000).toFixed(0)} ms`);
for (const [k, v] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${(v / 1000).toFixed(0).padStart(7)} ms  ${k}`);
