/**
 * The scoring pass `s[k] = items[k, H] + state · items[k, 0..H)` over every item row, in
 * a few hundred bytes of WebAssembly with 128-bit SIMD, where the runtime allows it
 * (WebAssembly SIMD, and a CSP that permits compiling: `'wasm-unsafe-eval'`). About three
 * times the speed of the unrolled JS loop (`npx tsx bench/score.ts`, docs/SCALE.md), and
 * bit for bit the same numbers: each row is summed exactly as `GruJsScorer` sums it in
 * JS, in float64, as four partial sums over j mod 4, (a + b) + (c + d), then the tail in
 * order, rounded once to float32. (A product of two float32 values is exact in float64,
 * so lane order and rounding are all that matter, and both are the same.)
 *
 * The item matrix has to live in the module's memory. `itemRows` allocates a matrix
 * there (model files are decoded straight into it, so serving needs no second copy);
 * `RowDots.of` scores a matrix in place when it was allocated so, and otherwise copies it
 * in once. Where WebAssembly cannot run, `RowDots.of` returns null and the caller keeps
 * its JS loop.
 */

// ---- the module, assembled here (no build step) ---------------------------------------

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (xs: number[][]): number[] => [...uleb(xs.length), ...xs.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

// instructions used below
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32 = (n: number) => [0x41, ...sleb(n)];
const add = [0x6a];
const shl = [0x74];
const and = [0x71];
const geU = [0x4f];
const f32Load = [0x2a, 2, 0];
const f64Load = [0x2b, 3, 0];
const f32Store = [0x38, 2, 0];
const f64Promote = [0xbb];
const f32Demote = [0xb6];
const f64Add = [0xa0];
const f64Mul = [0xa2];
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const v128Load = (align: number, offset: number) => simd(0x00, align, ...uleb(offset));
const v128Zero = simd(0x0c, ...new Array(16).fill(0));
const highHalf = simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
const f64x2PromoteLow = simd(0x5f);
const f64x2Add = simd(0xf0);
const f64x2Mul = simd(0xf2);
const lane = (l: number) => simd(0x21, l);
/** `while (!(get(i) >= get(end))) { body }` */
const loopUntil = (i: number, end: number, body: number[]) => [
  0x02,
  0x40,
  0x03,
  0x40,
  ...get(i),
  ...get(end),
  ...geU,
  0x0d,
  1,
  ...body,
  0x0c,
  0,
  0x0b,
  0x0b,
];
const scaled = (base: number, index: number, log2: number) => [
  ...get(base),
  ...get(index),
  ...i32(log2),
  ...shl,
  ...add,
];

// scores(state: f64*, items: f32*, out: f32*, n, h)
const [STATE, ITEMS, OUT, N, H] = [0, 1, 2, 3, 4];
// locals
const [K, ROW, J, H4, ACC0, ACC1, S, V] = [5, 6, 7, 8, 9, 10, 11, 12];
const LOCALS = [5, 3, I32, 1, I32, 2, V128, 1, F64, 1, V128];

const BODY = [
  ...get(H),
  ...i32(-4),
  ...and,
  ...set(H4),
  ...get(ITEMS),
  ...set(ROW),
  ...i32(0),
  ...set(K),
  ...loopUntil(K, N, [
    ...v128Zero,
    ...set(ACC0),
    ...v128Zero,
    ...set(ACC1),
    ...i32(0),
    ...set(J),
    // four columns a step: acc0 += (row[j], row[j+1]) · (st[j], st[j+1]); acc1 likewise
    // for j+2, j+3 (the JS loop's partial sums a, b | c, d)
    ...loopUntil(J, H4, [
      ...scaled(ROW, J, 2),
      ...v128Load(2, 0),
      ...set(V),
      ...get(ACC0),
      ...get(V),
      ...f64x2PromoteLow,
      ...scaled(STATE, J, 3),
      ...v128Load(3, 0),
      ...f64x2Mul,
      ...f64x2Add,
      ...set(ACC0),
      ...get(ACC1),
      ...get(V),
      ...get(V),
      ...highHalf,
      ...f64x2PromoteLow,
      ...scaled(STATE, J, 3),
      ...v128Load(3, 16),
      ...f64x2Mul,
      ...f64x2Add,
      ...set(ACC1),
      ...get(J),
      ...i32(4),
      ...add,
      ...set(J),
    ]),
    // s = bias + ((a + b) + (c + d))
    ...scaled(ROW, H, 2),
    ...f32Load,
    ...f64Promote,
    ...get(ACC0),
    ...lane(0),
    ...get(ACC0),
    ...lane(1),
    ...f64Add,
    ...get(ACC1),
    ...lane(0),
    ...get(ACC1),
    ...lane(1),
    ...f64Add,
    ...f64Add,
    ...f64Add,
    ...set(S),
    // the columns past the last multiple of four, in order
    ...loopUntil(J, H, [
      ...get(S),
      ...scaled(STATE, J, 3),
      ...f64Load,
      ...scaled(ROW, J, 2),
      ...f32Load,
      ...f64Promote,
      ...f64Mul,
      ...f64Add,
      ...set(S),
      ...get(J),
      ...i32(1),
      ...add,
      ...set(J),
    ]),
    ...scaled(OUT, K, 2),
    ...get(S),
    ...f32Demote,
    ...f32Store,
    // next row: ROW += 4·(h + 1)
    ...get(ROW),
    ...get(H),
    ...i32(1),
    ...add,
    ...i32(2),
    ...shl,
    ...add,
    ...set(ROW),
    ...get(K),
    ...i32(1),
    ...add,
    ...set(K),
  ]),
  0x0b,
];

const FUNCTION = [...LOCALS, ...BODY];

/** The module's bytes: one function `scores`, memory imported as `env.memory`. */
export const ROW_DOTS_WASM = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  1,
  0,
  0,
  0,
  ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0]])),
  ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 1]])),
  ...section(3, vec([[0]])),
  ...section(7, vec([[...name('scores'), 0x00, 0]])),
  ...section(10, vec([[...uleb(FUNCTION.length), ...FUNCTION]])),
]);

// ---- compiling it, once -----------------------------------------------------------

/** The WebAssembly API this needs (injectable for tests). */
export type WasmApi = Pick<typeof WebAssembly, 'Module' | 'Instance' | 'Memory' | 'validate'>;

let compiled: { api: WasmApi; module: WebAssembly.Module } | null | undefined;

/**
 * The compiled module, or null where it cannot run: no WebAssembly, no SIMD (the bytes
 * do not validate), or compiling refused (a CSP without 'wasm-unsafe-eval').
 */
export function rowDotsModule(
  api: WasmApi | undefined = globalThis.WebAssembly,
): { api: WasmApi; module: WebAssembly.Module } | null {
  if (compiled !== undefined && (compiled === null || compiled.api === api)) return compiled;
  compiled = null;
  try {
    if (api?.validate(ROW_DOTS_WASM)) compiled = { api, module: new api.Module(ROW_DOTS_WASM) };
  } catch {
    compiled = null;
  }
  return compiled;
}

/** Forget the compiled module (tests that inject another API). */
export function resetRowDotsModule(): void {
  compiled = undefined;
}

// ---- matrices in the module's memory ----------------------------------------------

const PAGE = 65536;
const align16 = (n: number) => (n + 15) & ~15;

/** One memory: the state as float64 [H], the scores [N], the item matrix [N, H + 1]. */
class Arena {
  readonly items: Float32Array;
  readonly out: Float32Array;
  private readonly state: Float64Array;
  private readonly run: (state: number, items: number, out: number, n: number, h: number) => void;
  private readonly outAt: number;
  private readonly itemsAt: number;

  constructor(
    m: { api: WasmApi; module: WebAssembly.Module },
    readonly n: number,
    readonly h: number,
  ) {
    this.outAt = align16(8 * h);
    this.itemsAt = this.outAt + align16(4 * n);
    const bytes = this.itemsAt + 4 * n * (h + 1);
    const memory = new m.api.Memory({ initial: Math.max(1, Math.ceil(bytes / PAGE)) });
    const instance = new m.api.Instance(m.module, { env: { memory } });
    this.run = instance.exports.scores as Arena['run'];
    // the memory never grows, so these views stay attached
    this.state = new Float64Array(memory.buffer, 0, h);
    this.out = new Float32Array(memory.buffer, this.outAt, n);
    this.items = new Float32Array(memory.buffer, this.itemsAt, n * (h + 1));
  }

  scores(state: Float32Array): Float32Array {
    const st = this.state;
    for (let j = 0; j < this.h; j++) st[j] = state[j];
    this.run(0, this.itemsAt, this.outAt, this.n, this.h);
    return this.out;
  }
}

const arenas = new WeakMap<ArrayBufferLike, Arena>();

/**
 * A zeroed item matrix [n, h + 1] that `RowDots.of` scores without a copy: in a
 * WebAssembly memory where the module runs, else an ordinary Float32Array.
 */
export function itemRows(n: number, h: number): Float32Array {
  const m = rowDotsModule();
  if (!m || n === 0) return new Float32Array(n * (h + 1));
  const arena = new Arena(m, n, h);
  arenas.set(arena.items.buffer, arena);
  return arena.items;
}

/** The scoring pass over one item matrix, in WebAssembly. */
export class RowDots {
  private constructor(private readonly arena: Arena) {}

  /**
   * For `items` [n, h + 1]: in place when `itemRows` allocated it, else over a copy made
   * now (later writes to `items` are not seen). Null where the module cannot run.
   */
  static of(items: Float32Array, n: number, h: number): RowDots | null {
    const m = rowDotsModule();
    if (!m || n === 0 || items.length !== n * (h + 1)) return null;
    const own = arenas.get(items.buffer);
    if (own && own.items.byteOffset === items.byteOffset && own.n === n && own.h === h)
      return new RowDots(own);
    const arena = new Arena(m, n, h);
    arena.items.set(items);
    return new RowDots(arena);
  }

  /** Whether this pass reads `items` itself (no copy was made). */
  reads(items: Float32Array): boolean {
    return this.arena.items === items;
  }

  /**
   * The n scores for `state` [h]. The returned array is this pass's own buffer, rewritten
   * by the next call; pass `out` to get a copy there.
   */
  scores(state: Float32Array, out?: Float32Array): Float32Array {
    const s = this.arena.scores(state);
    if (!out || out === s) return s;
    out.set(s);
    return out;
  }
}
