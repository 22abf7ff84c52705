/**
 * EASE's part of a user's scores, acc[j] = Σ_h v_h · W[q_h][j] over the history items inside EASE, summed as the JS
 * loop of top-lists.ts always did — per term a float64 product and a float64 sum rounded to float32 in acc — but four
 * items at a time in WebAssembly SIMD: f32x4 lanes promoted to f64x2, multiplied and added in f64, demoted back.
 * Each lane runs the same IEEE operations in the same order as the scalar loop, so the result is the same to the bit
 * (tests/recommendation/ease-fold.test.ts); V8 runs the scalar loop one float at a time, and at 2,500 EASE items
 * it was about half of a scoring thread's topLists.
 * The weights are copied once per model into the instance's memory (n² floats: 25 MB at the default 2,500 items).
 */
import type { EaseModel } from "./ease.ts";
import { get, i32c, memarg, section, set, simd, u32, vector, name } from "./wasm-kernel.ts";

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;
// Core opcodes.
const I32_ADD = 0x6a;
const I32_LT_U = 0x49;
const I32_LOAD = (offset: number) => [0x28, ...memarg(2, offset)];
const F64_LOAD = (offset: number) => [0x2b, ...memarg(3, offset)];
const F32_LOAD = [0x2a, ...memarg(2, 0)];
const F32_STORE = [0x38, ...memarg(2, 0)];
const F64_PROMOTE_F32 = 0xbb;
const F32_DEMOTE_F64 = 0xb6;
const F64_ADD = 0xa0;
const F64_MUL = 0xa2;
const BR_IF = (depth: number) => [0x0d, ...u32(depth)];
const TEE = (l: number) => [0x22, ...u32(l)];
// SIMD opcodes (0xfd prefix).
const V128_LOAD = simd(0x00, ...memarg(0, 0));
const V128_STORE = simd(0x0b, ...memarg(0, 0));
const F64X2_SPLAT = simd(0x14);
const F64X2_PROMOTE_LOW = simd(0x5f);
const F32X4_DEMOTE_ZERO = simd(0x5e);
const F64X2_ADD = simd(0xf0);
const F64X2_MUL = simd(0xf2);
/** Lanes 2 and 3 of a f32x4 into lanes 0 and 1 (for promote_low). */
const HIGH_HALF = simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
/** The low halves of two demoted vectors side by side: a0 a1 b0 b1. */
const JOIN_LOW = simd(0x0d, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);

/**
 * `fold(acc, rows, values, count, n)`: for h < count, acc[j] += values[h] · row_h[j] for j < n, where `rows` holds
 * count i32 byte addresses of float32 rows and `values` count f64; acc is n float32 (all addresses in bytes).
 */
function foldBytes(): Uint8Array {
  const P = { acc: 0, rows: 1, values: 2, count: 3, n: 4 };
  const L = { h: 5, row: 6, j: 7, end4: 8, end: 9, v: 10, vv: 11, a: 12, x: 13 };
  // acc + v·w over two lanes of a and x (the low two, or the high two moved down by a shuffle of the vector with itself).
  const lanes = (l: number, high: boolean) => (high ? [...get(l), ...get(l), ...HIGH_HALF] : get(l));
  const term = (high: boolean) => [...lanes(L.a, high), ...F64X2_PROMOTE_LOW, ...lanes(L.x, high), ...F64X2_PROMOTE_LOW, ...get(L.vv), ...F64X2_MUL, ...F64X2_ADD, ...F32X4_DEMOTE_ZERO];
  const body: number[] = [];
  // end = acc + 4n; end4 = acc + 16·floor(n / 4)
  body.push(...get(P.acc), ...get(P.n), ...i32c(2), 0x74, I32_ADD, ...set(L.end));
  body.push(...get(P.acc), ...get(P.n), ...i32c(-4), 0x71, ...i32c(2), 0x74, I32_ADD, ...set(L.end4));
  body.push(0x02, 0x40, ...get(P.count), 0x45, ...BR_IF(0)); // block; leave when count == 0
  body.push(0x03, 0x40); // loop over the history
  body.push(...get(P.rows), ...get(L.h), ...i32c(2), 0x74, I32_ADD, ...I32_LOAD(0), ...set(L.row));
  body.push(...get(P.values), ...get(L.h), ...i32c(3), 0x74, I32_ADD, ...F64_LOAD(0), ...TEE(L.v), ...F64X2_SPLAT, ...set(L.vv));
  body.push(...get(P.acc), ...set(L.j));
  // Four items a step.
  body.push(0x02, 0x40, ...get(L.j), ...get(L.end4), I32_LT_U, 0x45, ...BR_IF(0));
  body.push(0x03, 0x40);
  body.push(...get(L.j), ...V128_LOAD, ...set(L.a), ...get(L.row), ...V128_LOAD, ...set(L.x));
  body.push(...get(L.j), ...term(false), ...term(true), ...JOIN_LOW, ...V128_STORE);
  body.push(...get(L.row), ...i32c(16), I32_ADD, ...set(L.row));
  body.push(...get(L.j), ...i32c(16), I32_ADD, ...TEE(L.j), ...get(L.end4), I32_LT_U, ...BR_IF(0));
  body.push(0x0b, 0x0b);
  // The last n mod 4 items one at a time.
  body.push(0x02, 0x40, ...get(L.j), ...get(L.end), I32_LT_U, 0x45, ...BR_IF(0));
  body.push(0x03, 0x40);
  body.push(...get(L.j), ...get(L.j), ...F32_LOAD, F64_PROMOTE_F32, ...get(L.row), ...F32_LOAD, F64_PROMOTE_F32, ...get(L.v), F64_MUL, F64_ADD, F32_DEMOTE_F64, ...F32_STORE);
  body.push(...get(L.row), ...i32c(4), I32_ADD, ...set(L.row));
  body.push(...get(L.j), ...i32c(4), I32_ADD, ...TEE(L.j), ...get(L.end), I32_LT_U, ...BR_IF(0));
  body.push(0x0b, 0x0b);
  body.push(...get(L.h), ...i32c(1), I32_ADD, ...TEE(L.h), ...get(P.count), I32_LT_U, ...BR_IF(0));
  body.push(0x0b, 0x0b, 0x0b); // end loop, end block, end function
  const locals = vector([[...u32(5), I32], [...u32(1), F64], [...u32(3), V128]]);
  const func = [...locals, ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector([[0x60, ...vector([[I32], [I32], [I32], [I32], [I32]]), 0x00]])),
    ...section(2, vector([[...name("env"), ...name("memory"), 0x02, 0x00, ...u32(1)]])),
    ...section(3, vector([u32(0)])),
    ...section(7, vector([[...name("fold"), 0x00, ...u32(0)]])),
    ...section(10, vector([[...u32(func.length), ...func]])),
  ]);
}

interface Wasm {
  Memory: new (d: { initial: number }) => { readonly buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

let module: object | null | undefined;
function foldModule(): object | null {
  if (module === undefined) {
    const bytes = foldBytes();
    module = wasm.validate(bytes) ? new wasm.Module(bytes) : null;
  }
  return module;
}

/** Rows of history folded per call (the instance's row and value slots). */
const CHUNK = 1024;

interface Fold {
  acc: Float32Array;
  rows: Int32Array;
  values: Float64Array;
  weightsAt: number;
  run: (acc: number, rows: number, values: number, count: number, n: number) => void;
}

/** Per EASE model (and thread): an instance holding its weights. */
const folds = new WeakMap<EaseModel, Fold | null>();

function foldFor(ease: EaseModel): Fold | null {
  let f = folds.get(ease);
  if (f === undefined) {
    const mod = foldModule();
    const n = ease.items.length;
    if (mod === null || n === 0) f = null;
    else {
      // Layout: acc (n floats), row addresses, values, then the weights, each 16-byte aligned.
      const align = (b: number) => Math.ceil(b / 16) * 16;
      const accAt = 0;
      const rowsAt = align(accAt + 4 * n);
      const valuesAt = align(rowsAt + 4 * CHUNK);
      const weightsAt = align(valuesAt + 8 * CHUNK);
      const bytes = weightsAt + 4 * n * n;
      if (bytes > 2 ** 31) f = null;
      else {
        const memory = new wasm.Memory({ initial: Math.ceil(bytes / 65536) });
        const instance = new wasm.Instance(mod, { env: { memory } });
        new Float32Array(memory.buffer, weightsAt, n * n).set(ease.weights);
        f = {
          acc: new Float32Array(memory.buffer, accAt, n),
          rows: new Int32Array(memory.buffer, rowsAt, CHUNK),
          values: new Float64Array(memory.buffer, valuesAt, CHUNK),
          weightsAt,
          run: instance.exports.fold as Fold["run"],
        };
      }
    }
    folds.set(ease, f);
  }
  return f;
}

/**
 * EASE's raw scores of a history (`values[h]` the weight of `items[h]`), in model positions: into `out` by the plain
 * loop, or into the model's WebAssembly memory — the array returned, valid until the next call for this model on
 * this thread.
 */
export function easeFold(ease: EaseModel, items: ArrayLike<number>, values: ArrayLike<number>, out: Float32Array, simd = true): Float32Array {
  const f = simd ? foldFor(ease) : null;
  const n = ease.items.length;
  if (f === null) {
    const acc = out.fill(0);
    for (let h = 0; h < items.length; h++) {
      const q = ease.position[items[h]];
      if (q < 0) continue;
      const v = values[h];
      const row = q * n;
      for (let j = 0; j < n; j++) acc[j] += v * ease.weights[row + j];
    }
    return acc;
  }
  f.acc.fill(0);
  let count = 0;
  const flush = () => {
    f.run(f.acc.byteOffset, f.rows.byteOffset, f.values.byteOffset, count, n);
    count = 0;
  };
  for (let h = 0; h < items.length; h++) {
    const q = ease.position[items[h]];
    if (q < 0) continue;
    f.rows[count] = f.weightsAt + 4 * q * n;
    f.values[count++] = values[h];
    if (count === CHUNK) flush();
  }
  if (count > 0) flush();
  return f.acc;
}
