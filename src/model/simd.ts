import type { Rng } from '../core/rng';
import { type Buffers, freshBuffers } from './buffers';
import type { MatMuls } from './matmul';
import { PLAIN_SIMD, RELAXED_SIMD } from './simd-kernels.gen';

/**
 * The training step's WebAssembly SIMD kernels (source: wasm/kernels.ts, AssemblyScript,
 * compiled by scripts/build-wasm.mjs into simd-kernels.gen.ts): the matrix products and
 * the gate activations of the hybrid kernel (train/kernels/hybrid.ts). Against the TF.js
 * WASM backend's `matMul` (XNNPACK) the products of one step at the default settings
 * take ~1.2 ms instead of ~2.0 (Node 20, one thread, operands copied in and out either
 * way): no tensor bookkeeping and no repacking of the right operand. The gates replace
 * ~3·B·H calls of a float64 `Math.exp` stand-in with four float32 lanes at a time.
 *
 * Two variants: relaxed SIMD (`f32x4.relaxed_madd`: one fused multiply-add where the CPU
 * has FMA; Chromium 114+, Node 22+, Node 20 after `--experimental-wasm-relaxed-simd`)
 * and plain SIMD (a multiply then an add; every browser with WebAssembly SIMD). Where
 * neither validates, or compiling is refused (a CSP without 'wasm-unsafe-eval'),
 * `SimdKernels.get` returns null and the step keeps its JS loops and TF.js products.
 *
 * Memory: the module's linear memory above its static data is a scratch area; every call
 * copies its operands in and its result out (one `memcpy` each), so callers keep plain
 * Float32Arrays.
 */
export type SimdVariant = 'relaxed-simd' | 'simd';

export type SimdWasmApi = Pick<typeof WebAssembly, 'Module' | 'Instance' | 'validate'>;

interface Exports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  gemm(a: number, b: number, out: number, m: number, k: number, n: number): void;
  gate(
    a: number,
    c: number,
    bias: number,
    out: number,
    rows: number,
    cols: number,
    tanh: number,
  ): void;
  softmaxCols(s: number, logQ: number, out: number, m: number, cols: number): void;
  dropoutMask(out: number, n: number, state: number, cut: number, keep: number): void;
  gatherRows(src: number, ids: number, n: number, width: number, take: number, out: number): void;
  adagrad(
    w: number,
    s1: number,
    s2: number,
    g: number,
    n: number,
    lr: number,
    mom: number,
    eps: number,
  ): void;
  adagradRows(
    w: number,
    s1: number,
    s2: number,
    g: number,
    ids: number,
    rows: number,
    width: number,
    lr: number,
    mom: number,
    eps: number,
  ): void;
}

const PAGE = 65536;
const align16 = (n: number) => (n + 15) & ~15;

/** n floats of a module's memory from float offset `at`, copied into an array from `out`. */
function copyOut(memory: Float32Array, at: number, n: number, out: Buffers): Float32Array {
  const r = out.f32(n, false);
  r.set(memory.subarray(at, at + n));
  return r;
}

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export class SimdKernels {
  private view: Float32Array;
  private readonly base: number;

  private constructor(
    readonly variant: SimdVariant,
    private readonly x: Exports,
    private readonly api: SimdWasmApi,
    private readonly module: WebAssembly.Module,
  ) {
    this.base = align16(x.heapBase());
    this.view = new Float32Array(x.memory.buffer);
  }

  /** Grows the memory to hold `floats` float32 values above the base; returns the view. */
  private scratch(floats: number): Float32Array {
    const need = this.base + floats * 4;
    const mem = this.x.memory;
    if (need > mem.buffer.byteLength) mem.grow(Math.ceil((need - mem.buffer.byteLength) / PAGE));
    if (this.view.buffer !== mem.buffer) this.view = new Float32Array(mem.buffer);
    return this.view;
  }

  /** Products, one at a time: operands copied in, the results copied out into `out`'s arrays. */
  matMuls(out: Buffers = freshBuffers): MatMuls {
    return async (jobs) => jobs.map((j) => this.matMul(j.a, j.m, j.k, j.b, j.n, out));
  }

  /** The m·n values at float offset `at` of the memory, copied into an array from `out`. */
  private result(at: number, n: number, out: Buffers): Float32Array {
    return copyOut(this.view, at, n, out);
  }

  /** a [m, k] · b [k, n], row-major. */
  matMul(
    a: Float32Array,
    m: number,
    k: number,
    b: Float32Array,
    n: number,
    out: Buffers = freshBuffers,
  ): Float32Array {
    const oa = 0;
    const ob = align16(m * k * 4) / 4;
    const oo = ob + align16(k * n * 4) / 4;
    const v = this.scratch(oo + m * n);
    v.set(a.subarray(0, m * k), this.base / 4 + oa);
    v.set(b.subarray(0, k * n), this.base / 4 + ob);
    this.x.gemm(this.base + oa * 4, this.base + ob * 4, this.base + oo * 4, m, k, n);
    return this.result(this.base / 4 + oo, m * n, out);
  }

  /**
   * A gate's activation over [rows, cols]: f(a + c + bias[row]), f = σ, or tanh when
   * `tanh`. Relative error ≤ 2e-7 against the exact function (float32 arithmetic, e^x
   * from a degree-7 series; tested in test/model/simd.test.ts).
   */
  gate(
    a: Float32Array,
    c: Float32Array,
    bias: Float32Array,
    rows: number,
    cols: number,
    tanh: boolean,
    out: Buffers = freshBuffers,
  ): Float32Array {
    const len = rows * cols;
    const oc = align16(len * 4) / 4;
    const ob = oc + oc;
    const oo = ob + align16(rows * 4) / 4;
    const v = this.scratch(oo + len);
    const b4 = this.base / 4;
    v.set(a.subarray(0, len), b4);
    v.set(c.subarray(0, len), b4 + oc);
    v.set(bias.subarray(0, rows), b4 + ob);
    this.x.gate(
      this.base,
      this.base + oc * 4,
      this.base + ob * 4,
      this.base + oo * 4,
      rows,
      cols,
      tanh ? 1 : 0,
    );
    return this.result(b4 + oo, len, out);
  }

  /**
   * Softmax down each column of s [m, cols], less logQ[j] from row j first (when given):
   * the probabilities, [m, cols]. Float32 throughout (relative error of each
   * probability ≤ 1e-6 against float64, tested).
   */
  softmaxCols(
    s: Float32Array,
    logQ: Float32Array | null,
    m: number,
    cols: number,
    out: Buffers = freshBuffers,
  ): Float32Array {
    const len = m * cols;
    const oq = align16(len * 4) / 4;
    const oo = oq + align16(m * 4) / 4;
    const v = this.scratch(oo + len);
    const b4 = this.base / 4;
    v.set(s.subarray(0, len), b4);
    if (logQ) v.set(logQ.subarray(0, m), b4 + oq);
    this.x.softmaxCols(this.base, logQ ? this.base + oq * 4 : 0, this.base + oo * 4, m, cols);
    return this.result(b4 + oo, len, out);
  }

  /**
   * `Rng.fillDropoutMask(new Float32Array(n), p)`, the same numbers bit for bit, in four
   * lanes (the generator's k-th state is its first plus k·0x6d2b79f5, so draws need not
   * wait for each other); advances `rng` past the n draws.
   */
  dropoutMask(rng: Rng, n: number, p: number, out: Buffers = freshBuffers): Float32Array {
    this.scratch(n);
    const b4 = this.base / 4;
    // u / 2³² < p ⟺ u < ⌈p·2³²⌉ for an integer u
    const cut = Math.min(Math.ceil(p * 4294967296), 4294967295);
    this.x.dropoutMask(this.base, n, rng.skip(n), cut, 1 / (1 - p));
    return this.result(b4, n, out);
  }

  /**
   * A memory of `floats` float32 values that never grows (so views into it stay valid)
   * for arrays the optimiser updates in place, with `staging` more for the gradients it
   * copies in; null when it cannot be had (too large).
   */
  store(floats: number, staging: number): SimdStore | null {
    try {
      const inst = new this.api.Instance(this.module, {});
      return new SimdStore(inst.exports as unknown as Exports, floats, staging);
    } catch {
      return null;
    }
  }

  /**
   * The kernels for this runtime (compiled once), or null where WebAssembly SIMD cannot
   * run. `api` is injectable for tests.
   */
  static get(api: SimdWasmApi | undefined = globalThis.WebAssembly): SimdKernels | null {
    if (!enabled) return null;
    if (cached !== undefined && cached.api === api) return cached.kernels;
    const kernels = api
      ? (SimdKernels.instantiate('relaxed-simd', api) ?? SimdKernels.instantiate('simd', api))
      : null;
    cached = { api, kernels };
    return kernels;
  }

  /** One variant's kernels, or null where it does not validate or compile. */
  static instantiate(
    variant: SimdVariant,
    api: SimdWasmApi = globalThis.WebAssembly,
  ): SimdKernels | null {
    try {
      const bytes = decode(variant === 'relaxed-simd' ? RELAXED_SIMD : PLAIN_SIMD);
      if (!api.validate(bytes)) return null;
      const module = new api.Module(bytes);
      const inst = new api.Instance(module, {});
      return new SimdKernels(variant, inst.exports as unknown as Exports, api, module);
    } catch {
      // compiling refused (CSP) or no WebAssembly
      return null;
    }
  }
}

/**
 * Weights and optimiser state resident in a WebAssembly memory of fixed size, updated
 * there in SIMD lanes (Adagrad with or without momentum; float32 arithmetic, where the
 * JS optimiser computes in float64 and rounds once: the two agree to a float32 rounding
 * step per update). Arrays from `alloc` are views into the memory; the update functions
 * take those and copy only the gradient (and row ids) into the staging area.
 */
export class SimdStore {
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private next: number;
  private readonly end: number;
  private readonly stageAt: number;
  private readonly stageFloats: number;

  constructor(
    private readonly x: Exports,
    floats: number,
    staging: number,
  ) {
    const base = align16(x.heapBase());
    const bytes = base + align16(floats * 4 + 64 * 16) + align16(staging * 4) + 16;
    const mem = x.memory;
    if (bytes > mem.buffer.byteLength) mem.grow(Math.ceil((bytes - mem.buffer.byteLength) / PAGE));
    this.f32 = new Float32Array(mem.buffer);
    this.i32 = new Int32Array(mem.buffer);
    this.next = base;
    this.end = base + align16(floats * 4 + 64 * 16);
    this.stageAt = this.end;
    this.stageFloats = staging;
  }

  /** A zeroed array of n float32 in the memory (16-byte aligned). */
  alloc(n: number): Float32Array {
    const at = this.next;
    if (at + n * 4 > this.end) throw new Error(`SimdStore: ${n} floats do not fit`);
    this.next = align16(at + n * 4);
    return new Float32Array(this.f32.buffer, at, n);
  }

  /** Whether `a` lives in this memory. */
  holds(a: Float32Array | null): boolean {
    return a !== null && a.buffer === this.f32.buffer;
  }

  /** Copies g (and ids after it) to the staging area; false when they do not fit. */
  private stage(g: ArrayLike<number>, ids: Int32Array | null): boolean {
    const need = g.length + (ids ? ids.length : 0);
    if (need > this.stageFloats) return false;
    this.f32.set(g, this.stageAt / 4);
    if (ids) this.i32.set(ids, this.stageAt / 4 + g.length);
    return true;
  }

  /**
   * Rows `ids` of m [·, width] (a matrix in this memory), their first `take` columns, as
   * a new [ids.length, take] array; null when they do not fit the staging area.
   */
  gatherRows(
    m: Float32Array,
    width: number,
    take: number,
    ids: Int32Array,
    out: Buffers = freshBuffers,
  ): Float32Array | null {
    const n = ids.length * take;
    if (n + ids.length > this.stageFloats) return null;
    const at = this.stageAt / 4;
    this.i32.set(ids, at + n);
    this.x.gatherRows(m.byteOffset, this.stageAt + n * 4, ids.length, width, take, this.stageAt);
    return copyOut(this.f32, at, n, out);
  }

  /**
   * Adagrad over all of w (with momentum when s2 is given); false (nothing done) when
   * the gradient does not fit the staging area.
   */
  adagrad(
    w: Float32Array,
    s1: Float32Array,
    s2: Float32Array | null,
    g: ArrayLike<number>,
    lr: number,
    mom: number,
    eps: number,
  ): boolean {
    if (!this.stage(g, null)) return false;
    this.x.adagrad(
      w.byteOffset,
      s1.byteOffset,
      s2 ? s2.byteOffset : 0,
      this.stageAt,
      w.length,
      lr,
      mom,
      eps,
    );
    return true;
  }

  /** Adagrad on rows `ids` of [·, width] matrices (gradient [ids.length, width]). */
  adagradRows(
    w: Float32Array,
    s1: Float32Array,
    s2: Float32Array | null,
    ids: Int32Array,
    g: Float32Array,
    width: number,
    lr: number,
    mom: number,
    eps: number,
  ): boolean {
    const n = ids.length * width;
    if (!this.stage(g.subarray(0, n), ids)) return false;
    this.x.adagradRows(
      w.byteOffset,
      s1.byteOffset,
      s2 ? s2.byteOffset : 0,
      this.stageAt,
      this.stageAt + n * 4,
      ids.length,
      width,
      lr,
      mom,
      eps,
    );
    return true;
  }
}

let enabled = true;

/**
 * Turns the kernels off (`get` returns null: TF.js products, JS gates and loss) or back
 * on, for side-by-side measurements (`localrec bench train --no-simd`) and tests.
 */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}

let cached: { api: SimdWasmApi | undefined; kernels: SimdKernels | null } | undefined;
