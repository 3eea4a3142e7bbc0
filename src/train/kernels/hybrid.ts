import { type Buffers, freshBuffers } from '../../model/buffers';
import { type GruConfig, inputSize } from '../../model/config';
import { type MatMuls, transposeJs } from '../../model/matmul';
import type { GruArrays } from '../../model/params';
import { SimdKernels, type SimdStore } from '../../model/simd';
import { backwardJs, forwardJs } from '../../model/step-js';
import type { BatchStep } from '../batcher';
import { tfMatMuls } from './backend-io';
import {
  carryBack,
  type KernelTiming,
  type PreparedStep,
  type StepGrads,
  type StepKernel,
  type WindowGrads,
} from './kernel';

/**
 * The hybrid kernel: the GRU's elementwise maths in JS (model/step-js.ts), the matrix
 * products and the gate activations in the library's WebAssembly SIMD kernels
 * (model/simd.ts; where those cannot run, the products on the TF.js backend and the
 * gates in JS), the loss in its transposed form (the scores come out as Sᵀ [M, B]).
 * The fastest step on WASM and CPU.
 *
 * Weight layout: `wx` and `wh` are kept transposed (W̃x = Wxᵀ [3H, E], W̃h = Whᵀ [3H, H],
 * see model/step-js.ts for why); `arrays()` gives the model's layout. The carried
 * hidden state is a JS array.
 */
export class HybridKernel implements StepKernel {
  readonly name = 'hybrid' as const;
  readonly weights: GruArrays;
  private h: Float32Array | null = null;
  /** The carried state's own array (outlives the step's buffers). */
  private hKept: Float32Array | null = null;
  private readonly hs: number;
  private readonly es: number;
  private readonly mm: MatMuls;
  /** The WebAssembly SIMD kernels the step uses, or null (TF.js products, JS gates). */
  readonly simd: SimdKernels | null;

  constructor(
    config: GruConfig,
    /** Initial weights in the model's layout; copied. */
    init: GruArrays,
    timing: KernelTiming,
    simd: SimdKernels | null = SimdKernels.get(),
    /** Where the weights live (the optimiser updates them there), or null: JS arrays. */
    store: SimdStore | null = null,
    /**
     * Where a step's arrays come from: the StepRunner's, reset before each step (or
     * window), so gradients returned are valid until then.
     */
    private readonly buf: Buffers = freshBuffers,
  ) {
    this.simd = simd;
    this.hs = config.hiddenSize;
    this.es = inputSize(config);
    const h3 = 3 * this.hs;
    const own = (a: Float32Array) => {
      if (!store) return a.slice();
      const v = store.alloc(a.length);
      v.set(a);
      return v;
    };
    this.weights = {
      items: own(init.items),
      emb: init.emb ? own(init.emb) : null,
      wx: own(transposeJs(init.wx, this.es, h3)),
      wh: own(transposeJs(init.wh, this.hs, h3)),
      b: own(init.b),
    };
    const products = simd ? simd.matMuls(buf) : tfMatMuls;
    this.mm = async (jobs) => {
      const t = performance.now();
      const r = await products(jobs);
      timing.products += performance.now() - t;
      return r;
    };
  }

  arrays(): GruArrays {
    const w = this.weights;
    const h3 = 3 * this.hs;
    return {
      items: w.items.slice(),
      emb: w.emb ? w.emb.slice() : null,
      wx: transposeJs(w.wx, h3, this.es),
      wh: transposeJs(w.wh, h3, this.hs),
      b: w.b.slice(),
    };
  }

  resetHidden(): void {
    this.h = null;
  }

  /** The state a step starts from: the carried one, finished rows dropped, restarted ones zeroed. */
  private carried(batch: BatchStep, B: number): Float32Array {
    const { hs } = this;
    const prev = this.h;
    if (!prev) return this.buf.f32(B * hs);
    let h = prev;
    if (batch.keep) {
      h = this.buf.f32(B * hs, false);
      for (let r = 0; r < B; r++)
        h.set(prev.subarray(batch.keep[r] * hs, batch.keep[r] * hs + hs), r * hs);
    }
    // (a copy: in a window the previous step's output is still needed as it was, and
    // the kept state is overwritten when this step's output is kept)
    if (batch.resets || h === this.hKept) {
      if (h === prev) {
        h = this.buf.f32(prev.length, false);
        h.set(prev);
      }
      for (const r of batch.resets ?? []) h.fill(0, r * hs, r * hs + hs);
    }
    return h;
  }

  private forward(i: PreparedStep) {
    const { hs, es, weights: w } = this;
    const { B, M, batch } = i;
    const h = this.carried(batch, B);
    return forwardJs(
      this.mm,
      {
        x: i.xRows,
        h,
        wxT: w.wx,
        whT: w.wh,
        b: w.b,
        colW: i.colRows,
        maskIn: i.maskIn,
        maskH: i.maskH,
        maskHOnState: i.maskHOnState,
      },
      B,
      es,
      hs,
      M,
      this.simd,
      this.buf,
    );
  }

  /**
   * The state carried to the next step, copied out of the step's buffers (they are
   * reset before the next step or window).
   */
  private keepState(out: Float32Array): void {
    if (!this.hKept || this.hKept.length !== out.length) this.hKept = new Float32Array(out.length);
    this.hKept.set(out);
    this.h = this.hKept;
  }

  async run(i: PreparedStep): Promise<StepGrads> {
    const f = await this.forward(i);
    this.keepState(f.out);
    const { dS, dST } = await i.loss.transposed(f.ST);
    const g = await backwardJs(this.mm, f, dS, dST, null, false, this.buf);
    return { dColW: g.dColW, dx: g.dx, dwx: g.dwxT, dwh: g.dwhT, db: g.db };
  }

  async runWindow(steps: readonly PreparedStep[]): Promise<WindowGrads> {
    const { hs } = this;
    const fs = [];
    const ds = [];
    for (const i of steps) {
      const f = await this.forward(i);
      this.h = f.out;
      fs.push(f);
      ds.push(await i.loss.transposed(f.ST));
    }
    this.keepState(this.h!);
    const out: WindowGrads['steps'] = new Array(steps.length);
    let dwx: Float32Array | null = null;
    let dwh: Float32Array | null = null;
    let db: Float32Array | null = null;
    let dOutNext: Float32Array | null = null;
    for (let t = steps.length - 1; t >= 0; t--) {
      const g = await backwardJs(this.mm, fs[t], ds[t].dS, ds[t].dST, dOutNext, t > 0, this.buf);
      out[t] = { dColW: g.dColW, dx: g.dx };
      dwx = addInto(dwx, g.dwxT);
      dwh = addInto(dwh, g.dwhT);
      db = addInto(db, g.db);
      dOutNext = t > 0 ? carryBack(g.dh!, steps[t].batch, steps[t - 1].B, hs) : null;
    }
    return { steps: out, dwx: dwx!, dwh: dwh!, db: db! };
  }

  dispose(): void {
    this.h = null;
  }
}

/** acc += g (the first g becomes the accumulator). */
function addInto(acc: Float32Array | null, g: Float32Array): Float32Array {
  if (!acc) return g;
  for (let k = 0; k < g.length; k++) acc[k] += g[k];
  return acc;
}
