/**
 * The one hot loop of the dense solves, as WebAssembly SIMD emitted from here (no toolchain, no binary in the repo):
 * `rankUpdate(c, ldc, a, b, depth, tiles, alpha)` adds alpha·X·Yᵀ into a row of MR × NR tiles of a row-major
 * float64 matrix C, where X (MR rows) and Y (NR rows per tile) share the inner dimension `depth` and come packed:
 * a[k·MR + i] = X[i][k]; b[t·depth·NR + k·NR + j] = Y[t·NR + j][k]. It is the GotoBLAS micro-kernel: MR·NR/2
 * vector accumulators stay in registers, each step loads NR/2 vectors of Y and MR broadcasts of X and issues
 * MR·NR/2 fused multiply–adds (`f64x2.relaxed_madd`, one FMA instruction on x86-64; plain mul + add where the
 * engine lacks relaxed SIMD). Pure JS cannot get close: V8 does not vectorise and keeps fewer values in registers.
 */

/** Rows of X per tile (broadcast) and columns of C per tile (two f64x2 vectors). */
export const MR = 4;
export const NR = 4;

const VEC = NR / 2;

/** Unsigned LEB128. */
export function u32(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}
export function s32(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}
export const section = (id: number, body: number[]) => [id, ...u32(body.length), ...body];
export const vector = (items: number[][]) => [...u32(items.length), ...items.flat()];
export const name = (s: string) => vector([...Buffer.from(s)].map((b) => [b]));

// Opcodes (core and the 0xfd SIMD prefix).
export const get = (l: number) => [0x20, ...u32(l)];
export const set = (l: number) => [0x21, ...u32(l)];
export const i32c = (v: number) => [0x41, ...s32(v)];
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
export const simd = (op: number, ...imm: number[]) => [0xfd, ...u32(op), ...imm];
export const memarg = (align: number, offset: number) => [...u32(align), ...u32(offset)];
const v128Load = (offset: number) => simd(0x00, ...memarg(3, offset));
const v128Store = (offset: number) => simd(0x0b, ...memarg(3, offset));
const load64Splat = (offset: number) => simd(0x0a, ...memarg(3, offset));
const F64X2_SPLAT = simd(0x14);
const F64X2_ADD = simd(0xf0);
const F64X2_MUL = simd(0xf2);
const F64X2_RELAXED_MADD = simd(0x107);
const V128_ZERO = simd(0x0c, ...new Array<number>(16).fill(0));

/** The module's bytes; `fma` picks relaxed_madd (validate first: older engines reject it). */
export function kernelBytes(fma: boolean): Uint8Array {
  // Params: 0 c, 1 ldc (bytes), 2 a, 3 b, 4 depth, 5 tiles, 6 alpha (f64).
  // Locals: 7 pa, 8 pb, 9 k, 10 bt (current tile's Y panel), 11 cp (address of a C row),
  //         12.. accumulators (MR·VEC v128), then VEC v128 for Y, one v128 for the broadcast, one for alpha.
  const P = { c: 0, ldc: 1, a: 2, b: 3, depth: 4, tiles: 5, alpha: 6, pa: 7, pb: 8, k: 9, bt: 10, cp: 11 };
  const acc = (i: number, h: number) => 12 + i * VEC + h;
  const yv = (h: number) => 12 + MR * VEC + h;
  const bc = 12 + MR * VEC + VEC;
  const av = bc + 1;
  const madd = (i: number, h: number) =>
    fma
      ? [...get(bc), ...get(yv(h)), ...get(acc(i, h)), ...F64X2_RELAXED_MADD, ...set(acc(i, h))]
      : [...get(bc), ...get(yv(h)), ...F64X2_MUL, ...get(acc(i, h)), ...F64X2_ADD, ...set(acc(i, h))];

  const body: number[] = [];
  body.push(...get(P.alpha), ...F64X2_SPLAT, ...set(av), ...get(P.b), ...set(P.bt));
  body.push(0x02, 0x40, ...get(P.tiles), 0x45, 0x0d, 0); // block; if tiles == 0 leave
  body.push(0x03, 0x40); // loop over tiles
  for (let i = 0; i < MR; i++) for (let h = 0; h < VEC; h++) body.push(...V128_ZERO, ...set(acc(i, h)));
  body.push(...get(P.a), ...set(P.pa), ...get(P.bt), ...set(P.pb), ...get(P.depth), ...set(P.k));
  body.push(0x03, 0x40); // loop over depth
  for (let h = 0; h < VEC; h++) body.push(...get(P.pb), ...v128Load(16 * h), ...set(yv(h)));
  for (let i = 0; i < MR; i++) {
    body.push(...get(P.pa), ...load64Splat(8 * i), ...set(bc));
    for (let h = 0; h < VEC; h++) body.push(...madd(i, h));
  }
  body.push(...get(P.pa), ...i32c(8 * MR), I32_ADD, ...set(P.pa));
  body.push(...get(P.pb), ...i32c(8 * NR), I32_ADD, ...set(P.pb));
  body.push(...get(P.k), ...i32c(1), I32_SUB, 0x22, ...u32(P.k), 0x0d, 0); // k -= 1; continue while k != 0
  body.push(0x0b); // end depth loop
  // C tile += alpha · acc, row by row.
  body.push(...get(P.c), ...set(P.cp));
  for (let i = 0; i < MR; i++) {
    for (let h = 0; h < VEC; h++) {
      body.push(...get(P.cp), ...get(P.cp), ...v128Load(16 * h), ...get(acc(i, h)), ...get(av), ...F64X2_MUL, ...F64X2_ADD, ...v128Store(16 * h));
    }
    if (i < MR - 1) body.push(...get(P.cp), ...get(P.ldc), I32_ADD, ...set(P.cp));
  }
  body.push(...get(P.c), ...i32c(8 * NR), I32_ADD, ...set(P.c));
  body.push(...get(P.bt), ...get(P.depth), ...i32c(8 * NR), 0x6c, I32_ADD, ...set(P.bt)); // bt += depth·NR·8
  body.push(...get(P.tiles), ...i32c(1), I32_SUB, 0x22, ...u32(P.tiles), 0x0d, 0); // tiles -= 1; continue
  body.push(0x0b, 0x0b, 0x0b); // end loop, end block, end function

  const I32 = 0x7f;
  const F64 = 0x7c;
  const V128 = 0x7b;
  const locals = vector([[...u32(5), I32], [...u32(MR * VEC + VEC + 2), V128]]);
  const func = [...locals, ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector([[0x60, ...vector([[I32], [I32], [I32], [I32], [I32], [I32], [F64]]), 0x00]])),
    // Imports env.memory: shared, 1 to 65,536 pages (the caller sizes it).
    ...section(2, vector([[...name("env"), ...name("memory"), 0x02, 0x03, ...u32(1), ...u32(65536)]])),
    ...section(3, vector([u32(0)])),
    ...section(7, vector([[...name("rankUpdate"), 0x00, ...u32(0)]])),
    ...section(10, vector([[...u32(func.length), ...func]])),
  ]);
}

/**
 * The part of the WebAssembly JS API used here. The project's lib (es2023, no DOM) has no WebAssembly types, and
 * the DOM lib would bring browser globals into server code.
 */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
}
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number; shared: true }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
/** A compiled module (opaque; can be posted to a worker thread). */
export type WasmModule = { readonly __wasmModule?: never };
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Whether this engine accepts the kernel (with fused multiply–add, or without). */
export function kernelValidates(fma: boolean): boolean {
  return wasm.validate(kernelBytes(fma));
}

/** A shared WebAssembly memory of `pages` × 64 KiB, the kernel's address space. */
export function createMemory(pages: number): WasmMemory {
  return new wasm.Memory({ initial: pages, maximum: pages, shared: true });
}

let compiled: WasmModule | undefined;

/** The compiled kernel (with FMA when the engine has relaxed SIMD), compiled once per thread. */
export function kernelModule(): WasmModule {
  if (!compiled) {
    const withFma = kernelBytes(true);
    compiled = new wasm.Module(wasm.validate(withFma) ? withFma : kernelBytes(false));
  }
  return compiled;
}

export type RankUpdate = (c: number, ldc: number, a: number, b: number, depth: number, tiles: number, alpha: number) => void;

/** An instance of the kernel over `memory` (shared, so worker threads can run it over the same matrices). */
export function instantiateKernel(memory: WasmMemory, module: WasmModule = kernelModule()): RankUpdate {
  const instance = new wasm.Instance(module, { env: { memory } });
  return instance.exports.rankUpdate as RankUpdate;
}
