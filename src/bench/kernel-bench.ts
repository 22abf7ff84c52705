/**
 * `npm run bench:kernel [-- --sizes 2500,8000 --repeat 1 --block 192]`: the EASE solve (src/modules/recommendation/
 * algorithms/ease-solve.ts: the blocked WebAssembly SIMD inverse of G + λI and the weight scaling) on a random SPD
 * Gram matrix of each size, next to the same computation in numpy (OpenBLAS, all cores) when
 * `python3 -c 'import numpy'` works, the two taken in alternation so both see the same machine load; prints seconds,
 * GFLOP/s (counted as n³, what the symmetric solve does; numpy's LU-based inv does 2n³), the ratio, the load average
 * and this process's peak memory.
 */
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { solveEase } from "../modules/recommendation/algorithms/ease-solve.ts";
import { DEFAULT_BLOCK } from "../modules/recommendation/algorithms/blocked-inverse.ts";

const { values: args } = parseArgs({ options: { sizes: { type: "string", default: "2500,8000" }, repeat: { type: "string", default: "1" }, block: { type: "string" } } });
const sizes = args.sizes.split(",").map(Number);
const repeat = Number(args.repeat);
const load = () => loadavg().map((l) => l.toFixed(1)).join(" ");

/** A Gram matrix like EASE's: XᵀX of a sparse random 0/1 matrix (users × n), deterministic. */
function randomGram(n: number): Float64Array {
  const users = 4 * n;
  const g = new Float64Array(n * n);
  let seed = 42;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const items: number[] = [];
  for (let u = 0; u < users; u++) {
    items.length = 0;
    for (let k = 0; k < 20; k++) items.push(Math.floor(rnd() ** 2 * n));
    for (const a of items) for (const b of items) g[a * n + b] += 1;
  }
  return g;
}

const NUMPY = `
import sys, time, numpy as np
n = int(sys.argv[1]); rng = np.random.default_rng(42)
users = 4 * n
idx = np.floor(rng.random((users, 20)) ** 2 * n).astype(np.int64)
x = np.zeros((users, n)); np.add.at(x, (np.repeat(np.arange(users), 20), idx.ravel()), 1.0)
g = x.T @ x
t = time.perf_counter()
p = np.linalg.inv(g + 500.0 * np.eye(n))
b = -p / np.diag(p); np.fill_diagonal(b, 0.0); b = b.astype(np.float32)
print(time.perf_counter() - t)
`;

function numpySeconds(n: number): number | string {
  try {
    execFileSync("python3", ["-c", "import numpy"], { stdio: "ignore" });
  } catch {
    return "python3 with numpy is not available";
  }
  return Number(execFileSync("python3", ["-c", NUMPY, String(n)], { encoding: "utf8" }).trim());
}

const block = args.block === undefined ? undefined : Number(args.block);
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;

console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}, load average ${load()}`);
console.log(`pivot block ${block ?? DEFAULT_BLOCK}; numpy: np.linalg.inv then the same scaling`);
for (const n of sizes) {
  const ours: number[] = [];
  const theirs: number[] = [];
  let missing = "";
  for (let r = 0; r < repeat; r++) {
    const g = randomGram(n);
    const t = performance.now();
    solveEase(g, n, 500, block === undefined ? {} : { block });
    ours.push((performance.now() - t) / 1000);
    const np = numpySeconds(n);
    if (typeof np === "number") theirs.push(np);
    else missing = np;
  }
  const js = Math.min(...ours);
  const gflops = n ** 3 / js / 1e9;
  const np = theirs.length > 0 ? Math.min(...theirs) : undefined;
  const vs = np !== undefined ? `numpy/OpenBLAS ${np.toFixed(2)} s, ratio ${(js / np).toFixed(2)}×` : missing;
  console.log(`n = ${n}: EASE solve ${js.toFixed(2)} s (${gflops.toFixed(1)} GFLOP/s); ${vs}; load average ${load()}; peak RSS ${mib(process.resourceUsage().maxRSS * 1024)}`);
}
