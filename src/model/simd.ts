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
}

const PAGE = 65536;
const align16 = (n: number) => (n + 15) & ~15;

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

  /** Products, one at a time: operands copied in, the result copied out. */
  readonly matMuls: MatMuls = async (jobs) => jobs.map((j) => this.matMul(j.a, j.m, j.k, j.b, j.n));

  /** a [m, k] · b [k, n], row-major. */
  matMul(a: Float32Array, m: number, k: number, b: Float32Array, n: number): Float32Array {
    const oa = 0;
    const ob = align16(m * k * 4) / 4;
    const oo = ob + align16(k * n * 4) / 4;
    const v = this.scratch(oo + m * n);
    v.set(a.subarray(0, m * k), this.base / 4 + oa);
    v.set(b.subarray(0, k * n), this.base / 4 + ob);
    this.x.gemm(this.base + oa * 4, this.base + ob * 4, this.base + oo * 4, m, k, n);
    const at = this.base / 4 + oo;
    return v.slice(at, at + m * n);
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
    return v.slice(b4 + oo, b4 + oo + len);
  }

  /**
   * Softmax down each column of s [m, cols], less logQ[j] from row j first (when given):
   * the probabilities, [m, cols]. Float32 throughout (relative error of each
   * probability ≤ 1e-6 against float64, tested).
   */
  softmaxCols(s: Float32Array, logQ: Float32Array | null, m: number, cols: number): Float32Array {
    const len = m * cols;
    const oq = align16(len * 4) / 4;
    const oo = oq + align16(m * 4) / 4;
    const v = this.scratch(oo + len);
    const b4 = this.base / 4;
    v.set(s.subarray(0, len), b4);
    if (logQ) v.set(logQ.subarray(0, m), b4 + oq);
    this.x.softmaxCols(this.base, logQ ? this.base + oq * 4 : 0, this.base + oo * 4, m, cols);
    return v.slice(b4 + oo, b4 + oo + len);
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
      const inst = new api.Instance(new api.Module(bytes), {});
      return new SimdKernels(variant, inst.exports as unknown as Exports);
    } catch {
      // compiling refused (CSP) or no WebAssembly
      return null;
    }
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
