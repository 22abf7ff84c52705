import { readFileSync } from "node:fs";
const [fa, na, fb, nb, topS] = process.argv.slice(2);
const load = (f) => { const p = JSON.parse(readFileSync(f, "utf8")); const byId = new Map(p.nodes.map((n) => [n.id, n])); const m = new Map();
  for (let i = 0; i < p.samples.length; i++) { const n = byId.get(p.samples[i]); const cf = n.callFrame; const k = `${cf.functionName || "(anon)"} ${cf.url.replace(/.*node_modules\//, "").replace(/.*\/work\/main\//, "")}:${cf.lineNumber}`; m.set(k, (m.get(k) ?? 0) + (p.timeDeltas[i] ?? 0)); } return m; };
const A = load(fa), B = load(fb); const nA = Number(na), nB = Number(nb);
const keys = new Set([...A.keys(), ...B.keys()]); const rows = [];
for (const k of keys) { if (k.startsWith("(idle)")) continue; const a = (A.get(k) ?? 0) / nA, b = (B.get(k) ?? 0) / nB; rows.push([k, a, b, a - b]); }
rows.sort((x, y) => y[3] - x[3]);
let ta = 0, tb = 0; for (const r of rows) { ta += r[1]; tb += r[2]; }
console.log(`per request µs: A ${ta.toFixed(0)}  B ${tb.toFixed(0)}`);
for (const r of rows.slice(0, Number(topS ?? 50))) console.log(`${r[3].toFixed(1).padStart(7)} ${r[1].toFixed(1).padStart(7)} ${r[2].toFixed(1).padStart(7)}  ${r[0]}`);
