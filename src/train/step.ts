import * as tf from '@tensorflow/tfjs-core';
import { LocalRecError } from '../core/errors';
import { StepBuffers } from '../model/buffers';
import { type GruConfig, inputSize } from '../model/config';
import { OptimizedArray, type OptimizerHyper } from '../model/optimizer';
import type { GruArrays } from '../model/params';
import { Rng } from '../model/rng';
import { SimdKernels, type SimdStore, type SimdVariant } from '../model/simd';
import type { BatchStep } from './batcher';
import { ItemMarks } from './item-marks';
import {
  createKernel,
  type KernelName,
  kernelFor,
  type PreparedStep,
  type StepGrads,
  type StepKernel,
  type StepLoss,
  type WindowGrads,
} from './kernels';
import { HybridKernel } from './kernels/hybrid';
import { ResidentKernel, type ResidentStep, residentRefusal } from './kernels/resident';
import { type Loss, type LossParams, lossFor } from './losses';
import type { TrainOptions } from './options';

/**
 * One session-parallel training step:
 *
 *   JS      columns = [batch targets (B) | shared negatives (S)] (or every item: full
 *           softmax); copy their rows of the item matrix ([N, H+1], the output bias as
 *           last column) and the inputs' rows; accidental hits; logQ; dropout masks
 *   kernel  GRU step, scores S = [h', 1]·Wcᵀ, the loss (train/losses/), exact one-step
 *           gradients (no BPTT): the hybrid or the device kernel (train/kernels/), as
 *           `kernelFor` picks for the backend unless `kernel` names one
 *   JS      sum the gradients per unique item row, sparse row-wise update of the
 *           touched item rows, dense update of the GRU weights
 *
 * With `bptt` T > 1 (truncated backpropagation through time) the steps are prepared as
 * they come but run T at a time: the kernel's `runWindow` goes forward through the T
 * steps and back through time, and one optimiser update applies the window's summed
 * gradients. T = 1 is the one-step path above, unchanged.
 *
 * Weights and optimiser state live in JS arrays during training (see
 * model/optimizer.ts for why), in the kernel's layout, except with the resident kernel
 * (kernels/resident.ts, GPU backends): there the whole step, optimiser included, stays on
 * the backend, and this class only picks the step's columns and dropout masks.
 */
export class StepRunner {
  /** The step kernel; it owns the weights (in its layout) and the hidden state. */
  private readonly kernel: StepKernel | null;
  /** Or the resident kernel, which also owns the optimiser and the loss sum. */
  private readonly resident: ResidentKernel | null;
  /** Weights during training, in the kernel's layout; `arrays()` gives the model's. */
  private readonly w: GruArrays;
  private readonly loss: Loss;
  private readonly lossParams: LossParams;
  /**
   * The arrays of a step (or of a BPTT window: reset when its first step comes): its
   * rows, masks, activations, gradients, all in one reused buffer (model/buffers.ts).
   */
  private readonly buffers = new StepBuffers();
  /** The WebAssembly memory holding the weights (hybrid kernel with SIMD), or null. */
  private readonly store: SimdStore | null = null;
  /** The JS optimiser (not with the resident kernel, which runs its own). */
  private readonly opt!: {
    items: OptimizedArray;
    emb: OptimizedArray | null;
    wx: OptimizedArray;
    wh: OptimizedArray;
    b: OptimizedArray;
  };
  /**
   * Why `auto` did not run the resident kernel the backend asked for (settings it does
   * not train, see kernels/resident.ts), or null.
   */
  readonly residentRefused: string | null = null;
  private lossAcc = 0;
  /** Events whose loss is in `lossAcc` (a window's losses come when it runs). */
  private lossEvents = 0;
  /** Optimiser updates so far (= steps with bptt 1). */
  private updateNo = 0;
  /** Prepared steps of the window being filled (bptt > 1). */
  private pending: { prepared: PreparedStep; cols: Int32Array | null; batch: BatchStep }[] = [];
  /** The same for the resident kernel (one step with bptt 1). */
  private residentPending: ResidentStep[] = [];
  private readonly rng: Rng;
  private readonly full: boolean;
  /** De-duplication scratch (unique rows of a step, accidental hits). */
  private readonly marks: ItemMarks;
  /**
   * Milliseconds per phase: JS prep, forward + loss + backward (`compute`, which includes
   * `products`, the backend matMul round trips of the hybrid kernel, and `loss`), JS
   * optimiser update. Read by bench/train-profile.ts.
   */
  readonly timing = { prep: 0, compute: 0, update: 0, products: 0, loss: 0 };
  /** Optimiser settings shared by every weight array (the schedule changes `lr`). */
  private readonly hp: OptimizerHyper;
  private readonly hs: number;
  private readonly es: number;
  private readonly cw: number;

  constructor(
    readonly config: GruConfig,
    /** Initial weights; copied (the caller's arrays are not modified). */
    init: GruArrays,
    readonly opts: TrainOptions,
    /** log E[count of item among a step's candidates], for logQ (sampled CE only). */
    private readonly logQ: Float32Array | null,
  ) {
    this.hs = config.hiddenSize;
    this.es = inputSize(config);
    this.cw = this.hs + 1;
    const hp: OptimizerHyper = (this.hp = {
      kind: opts.optimizer,
      lr: opts.lr,
      momentum: opts.momentum,
      beta1: 0.9,
      beta2: 0.999,
      eps: opts.eps,
    });
    this.loss = lossFor(opts.loss);
    this.lossParams = { bprReg: opts.bprReg, elu: opts.elu };
    this.full = opts.fullSoftmaxMaxItems >= config.numItems;
    let name = opts.kernel === 'auto' ? kernelFor(tf.getBackend()) : opts.kernel;
    if (name === 'resident') {
      const why = residentRefusal(opts, this.full);
      if (why && opts.kernel === 'resident') {
        throw new LocalRecError('INVALID_INPUT', why, { details: { field: 'kernel' } });
      }
      if (why) {
        // the closest kernel that trains these settings on a GPU backend
        this.residentRefused = why;
        name = 'device';
      }
    }
    if (name === 'resident') {
      const scaled =
        logQ && this.loss.logQ && opts.logQ > 0
          ? Float32Array.from(logQ, (q) => opts.logQ * q)
          : null;
      this.resident = new ResidentKernel(
        config,
        init,
        hp,
        opts.maskHits,
        scaled,
        opts.dropoutHiddenOn === 'state',
      );
      this.kernel = null;
      this.w = init; // not read: the weights live in the resident kernel
    } else {
      this.resident = null;
      const simd = name === 'hybrid' ? SimdKernels.get() : null;
      const store = simd && opts.optimizer === 'adagrad' ? simdStore(simd, config, opts) : null;
      this.store = store;
      this.kernel = createKernel(name, config, init, this.timing, simd, store, this.buffers);
      this.w = this.kernel.weights;
      this.opt = {
        items: new OptimizedArray(this.w.items, this.cw, hp, store),
        emb: this.w.emb ? new OptimizedArray(this.w.emb, this.es, hp, store) : null,
        wx: new OptimizedArray(this.w.wx, 0, hp, store),
        wh: new OptimizedArray(this.w.wh, 0, hp, store),
        b: new OptimizedArray(this.w.b, 0, hp, store),
      };
    }
    this.rng = new Rng(opts.seed ^ 0x2545f491);
    this.marks = new ItemMarks(config.numItems);
  }

  /**
   * A dropout mask of n entries: the same numbers from the WebAssembly kernels (four
   * draws at a time) or from the JS generator.
   */
  private mask(n: number, p: number): Float32Array {
    const simd = SimdKernels.get();
    return simd
      ? simd.dropoutMask(this.rng, n, p, this.buffers)
      : this.rng.fillDropoutMask(this.buffers.f32(n, false), p);
  }

  /** The WebAssembly SIMD kernels the step runs on, or 'off'. */
  get stepSimd(): SimdVariant | 'off' {
    return (this.kernel instanceof HybridKernel && this.kernel.simd?.variant) || 'off';
  }

  /** The kernel that runs the steps. */
  get kernelName(): KernelName {
    return this.resident ? this.resident.name : this.kernel!.name;
  }

  /** A copy of the current weights in the model's layout (a read from the resident kernel). */
  async arrays(): Promise<GruArrays> {
    return this.resident ? this.resident.arrays() : this.kernel!.arrays();
  }

  /** Learning rate of the following steps: `opts.lr · scale`. */
  setLrScale(scale: number): void {
    this.hp.lr = this.opts.lr * scale;
  }

  get usesFullSoftmax(): boolean {
    return this.full;
  }

  /** Start of an epoch: hidden state back to zeros. */
  resetHidden(): void {
    (this.resident ?? this.kernel!).resetHidden();
  }

  /**
   * Sum of per-event losses since the last call, and over how many events. The resident
   * kernel sums the loss on the backend: this is its one read.
   */
  async takeLoss(): Promise<{ sum: number; events: number }> {
    if (this.resident) return this.resident.takeLoss();
    const events = this.lossEvents;
    const sum = this.lossAcc;
    this.lossAcc = 0;
    this.lossEvents = 0;
    return { sum, events };
  }

  /** True when every weight is finite (a read of every weight on the resident kernel). */
  async weightsFinite(): Promise<boolean> {
    return allFinite(this.resident ? await this.resident.arrays() : this.w);
  }

  /** Unique ids of `list` and each entry's position among them. */
  private unique(list: Int32Array): { ids: Int32Array; pos: Int32Array } {
    const ids = new Int32Array(list.length);
    const pos = new Int32Array(list.length);
    const u = this.marks.unique(list, ids, pos);
    return { ids: ids.slice(0, u), pos };
  }

  /**
   * Accidental hits: (b, j) pairs where column j ≠ b holds row b's target item; null
   * when there is none. Rows are found per column through a per-item row list.
   */
  private hitPairs(targets: Int32Array, cols: Int32Array): Int32Array | null {
    const B = targets.length;
    const M = cols.length;
    const { stamp, where } = this.marks;
    const no = this.marks.next();
    const nextRow = new Int32Array(B).fill(-1);
    for (let b = B - 1; b >= 0; b--) {
      const t = targets[b];
      nextRow[b] = stamp[t] === no ? where[t] : -1;
      stamp[t] = no;
      where[t] = b;
    }
    const pairs: number[] = [];
    for (let j = 0; j < M; j++) {
      const c = cols[j];
      if (stamp[c] !== no) continue;
      for (let b = where[c]; b >= 0; b = nextRow[b]) if (b !== j) pairs.push(b, j);
    }
    return pairs.length ? Int32Array.from(pairs) : null;
  }

  /** Copy rows `ids` of a row-major matrix (row width `src`, first `take` columns). */
  private rows(m: Float32Array, width: number, take: number, ids: Int32Array): Float32Array {
    // in the WebAssembly store, one pass there (a subarray per row costs ~0.4 µs in
    // Chromium's worker: ~0.15-0.3 ms a step)
    const fromStore = this.store?.holds(m)
      ? this.store.gatherRows(m, width, take, ids, this.buffers)
      : null;
    if (fromStore) return fromStore;
    const out = this.buffers.f32(ids.length * take, false);
    for (let k = 0; k < ids.length; k++) {
      const o = ids[k] * width;
      out.set(m.subarray(o, o + take), k * take);
    }
    return out;
  }

  /**
   * One training step. Asynchronous: reads from the backend go through `readBack`
   * (model/matmul.ts), asynchronous on WebGPU. With `bptt` > 1 the step is prepared now
   * (rows of the current weights, its dropout masks) and runs when its window is full.
   */
  async step(batch: BatchStep, negatives: Int32Array | null): Promise<void> {
    const t0 = performance.now();
    if (this.resident) {
      // the masks from the same stream as `prepare`'s (same run on every kernel)
      const B = batch.inputs.length;
      const cols = concatInt(batch.targets, negatives ?? new Int32Array(0));
      const { dropoutEmbedding: de, dropoutHidden: dh } = this.opts;
      const maskIn = de > 0 ? this.rng.fillDropoutMask(new Float32Array(B * this.es), de) : null;
      const maskH = dh > 0 ? this.rng.fillDropoutMask(new Float32Array(B * this.hs), dh) : null;
      // buffers of the batcher are reused between steps: keep copies for a window
      const own: BatchStep =
        this.opts.bptt > 1
          ? {
              inputs: batch.inputs.slice(),
              targets: batch.targets.slice(),
              keep: batch.keep ? batch.keep.slice() : null,
              resets: batch.resets ? batch.resets.slice() : null,
            }
          : batch;
      this.residentPending.push({ batch: own, cols, maskIn, maskH });
      this.timing.prep += performance.now() - t0;
      if (this.residentPending.length >= this.opts.bptt) this.runResident();
      return;
    }
    // a new step (or window): the previous one's arrays are spent
    if (this.opts.bptt <= 1 || this.pending.length === 0) this.buffers.reset();
    if (this.opts.bptt > 1) {
      // buffers of the batcher are reused between steps: keep copies
      const own: BatchStep = {
        inputs: batch.inputs.slice(),
        targets: batch.targets.slice(),
        keep: batch.keep ? batch.keep.slice() : null,
        resets: batch.resets ? batch.resets.slice() : null,
      };
      const { prepared, cols } = this.prepare(own, negatives);
      this.pending.push({ prepared, cols, batch: own });
      this.timing.prep += performance.now() - t0;
      if (this.pending.length >= this.opts.bptt) await this.flush();
      return;
    }
    const { prepared, cols } = this.prepare(batch, negatives);
    const { M } = prepared;
    const t1 = performance.now();
    const g = await this.kernel!.run(prepared);
    const t4 = performance.now();
    // ---- JS: optimiser updates (a plain method: see model/step-js.ts on async loops) ----
    this.update(g, batch, cols, M);
    const t5 = performance.now();
    this.timing.prep += t1 - t0;
    this.timing.compute += t4 - t1;
    this.timing.update += t5 - t4;
  }

  /**
   * Runs the steps of an unfinished window (bptt > 1) as a shorter window; the end of
   * an epoch and of training call it. Nothing to do with bptt 1.
   */
  async flush(): Promise<void> {
    if (this.resident) {
      if (this.residentPending.length) this.runResident();
      return;
    }
    const steps = this.pending;
    if (!steps.length) return;
    this.pending = [];
    const t1 = performance.now();
    const g = await this.kernel!.runWindow(steps.map((s) => s.prepared));
    const t4 = performance.now();
    this.updateWindow(g, steps);
    this.timing.compute += t4 - t1;
    this.timing.update += performance.now() - t4;
  }

  /** Drops the steps of an unfinished window (a failed or aborted run). */
  dropPending(): void {
    this.pending = [];
    this.residentPending = [];
  }

  /** The resident kernel's window (or single step): queued on the backend, nothing read. */
  private runResident(): void {
    const steps = this.residentPending;
    this.residentPending = [];
    const t1 = performance.now();
    this.resident!.run(steps);
    this.updateNo++;
    this.timing.compute += performance.now() - t1;
  }

  /**
   * JS: a step's candidate columns, their rows, masks, and its loss bound to them:
   *
   *   columns = [batch targets (B) | shared negatives (S)] (or every item: full softmax)
   */
  private prepare(
    batch: BatchStep,
    negatives: Int32Array | null,
  ): { prepared: PreparedStep; cols: Int32Array | null } {
    const { opts, hs, es, cw, w } = this;
    const B = batch.inputs.length;
    const tied = this.config.embedding === 'tied';
    const N = this.config.numItems;

    // ---- JS: candidate columns, their rows, masks ----------------------------------
    const cols = this.full ? null : concatInt(batch.targets, negatives ?? new Int32Array(0));
    const M = cols ? cols.length : N;
    const colRows = cols ? this.rows(w.items, cw, cw, cols) : w.items;
    const xRows = tied
      ? this.rows(w.items, cw, hs, batch.inputs)
      : this.rows(w.emb!, es, es, batch.inputs);
    const hits = cols && opts.maskHits ? this.hitPairs(batch.targets, cols) : null;
    let logQCols: Float32Array | null = null;
    if (cols && this.logQ && this.loss.logQ && opts.logQ > 0) {
      const q = this.buffers.f32(M, false);
      for (let j = 0; j < M; j++) q[j] = opts.logQ * this.logQ[cols[j]];
      logQCols = q;
    }
    const maskIn = opts.dropoutEmbedding > 0 ? this.mask(B * es, opts.dropoutEmbedding) : null;
    const maskH = opts.dropoutHidden > 0 ? this.mask(B * hs, opts.dropoutHidden) : null;

    // column of row b's target: b when sampled (targets come first), else the item
    const targetCol = cols ? iota(B) : batch.targets;
    const { loss, lossParams } = this;
    const stepLoss: StepLoss = {
      rows: (S) => {
        const tl = performance.now();
        const r = loss.rows(S, B, M, targetCol, lossParams, logQCols, hits);
        this.lossAcc += r.lossSum;
        this.lossEvents += B;
        this.timing.loss += performance.now() - tl;
        return r.dS;
      },
      transposed: async (ST) => {
        const tl = performance.now();
        const r = await loss.transposed(
          ST,
          B,
          M,
          targetCol,
          lossParams,
          logQCols,
          hits,
          this.buffers,
        );
        this.lossAcc += r.lossSum;
        this.lossEvents += B;
        this.timing.loss += performance.now() - tl;
        return r;
      },
    };
    return {
      prepared: {
        batch,
        xRows,
        colRows,
        maskIn,
        maskH,
        maskHOnState: opts.dropoutHiddenOn === 'state',
        B,
        M,
        loss: stepLoss,
      },
      cols,
    };
  }

  /** Optimiser updates of a step's gradients (sparse item rows, dense GRU weights). */
  private update(g: StepGrads, batch: BatchStep, cols: Int32Array | null, M: number): void {
    const { hs, es, cw } = this;
    const B = batch.inputs.length;
    const tied = this.config.embedding === 'tied';
    const { dColW, dx, dwx, dwh, db } = g; // dwx/dwh in the layout of this.w

    const step = ++this.updateNo;
    if (!cols) {
      // full softmax: every item row has a gradient; add the input rows' part (tied)
      if (tied) addRows(dColW, cw, batch.inputs, dx, hs);
      this.opt.items.dense(dColW, step);
    } else {
      const list = tied ? concatInt(cols, batch.inputs) : cols;
      const uq = this.unique(list);
      const gU = this.buffers.f32(uq.ids.length * cw);
      for (let k = 0; k < M; k++) {
        const o = uq.pos[k] * cw;
        const s = k * cw;
        for (let c = 0; c < cw; c++) gU[o + c] += dColW[s + c];
      }
      if (tied) {
        for (let b = 0; b < B; b++) {
          const o = uq.pos[M + b] * cw;
          const s = b * hs;
          for (let c = 0; c < hs; c++) gU[o + c] += dx[s + c];
        }
      }
      this.opt.items.rows(uq.ids, gU, step);
    }
    if (!tied) {
      const ue = this.unique(batch.inputs);
      const gE = new Float32Array(ue.ids.length * es);
      for (let b = 0; b < B; b++) {
        const o = ue.pos[b] * es;
        for (let c = 0; c < es; c++) gE[o + c] += dx[b * es + c];
      }
      this.opt.emb!.rows(ue.ids, gE, step);
    }
    this.opt.wx.dense(dwx, step);
    this.opt.wh.dense(dwh, step);
    this.opt.b.dense(db, step);
  }

  /**
   * Optimiser update of a window's gradients: every step's candidate and input rows
   * summed per unique item (in step order), then one sparse row update; the GRU weights'
   * gradients come summed over the window.
   */
  private updateWindow(
    g: WindowGrads,
    steps: readonly { prepared: PreparedStep; cols: Int32Array | null; batch: BatchStep }[],
  ): void {
    const { hs, es, cw } = this;
    const tied = this.config.embedding === 'tied';
    const step = ++this.updateNo;
    if (!this.full) {
      // every (row id, gradient row) pair of the window: candidate rows, then (tied) inputs
      let total = 0;
      for (const s of steps) total += s.prepared.M + (tied ? s.prepared.B : 0);
      const list = new Int32Array(total);
      let o = 0;
      for (const s of steps) {
        list.set(s.cols!, o);
        o += s.prepared.M;
        if (tied) {
          list.set(s.batch.inputs, o);
          o += s.prepared.B;
        }
      }
      const uq = this.unique(list);
      const gU = new Float32Array(uq.ids.length * cw);
      o = 0;
      steps.forEach((s, t) => {
        const { dColW, dx } = g.steps[t];
        for (let k = 0; k < s.prepared.M; k++, o++) {
          const d = uq.pos[o] * cw;
          const src = k * cw;
          for (let c = 0; c < cw; c++) gU[d + c] += dColW[src + c];
        }
        if (tied) {
          for (let b = 0; b < s.prepared.B; b++, o++) {
            const d = uq.pos[o] * cw;
            const src = b * hs;
            for (let c = 0; c < hs; c++) gU[d + c] += dx[src + c];
          }
        }
      });
      this.opt.items.rows(uq.ids, gU, step);
    } else {
      const acc = new Float32Array(this.w.items.length);
      steps.forEach((s, t) => {
        const { dColW, dx } = g.steps[t];
        for (let k = 0; k < acc.length; k++) acc[k] += dColW[k];
        if (tied) addRows(acc, cw, s.batch.inputs, dx, hs);
      });
      this.opt.items.dense(acc, step);
    }
    if (!tied) {
      let total = 0;
      for (const s of steps) total += s.prepared.B;
      const list = new Int32Array(total);
      let o = 0;
      for (const s of steps) {
        list.set(s.batch.inputs, o);
        o += s.prepared.B;
      }
      const ue = this.unique(list);
      const gE = new Float32Array(ue.ids.length * es);
      o = 0;
      steps.forEach((s, t) => {
        const { dx } = g.steps[t];
        for (let b = 0; b < s.prepared.B; b++, o++) {
          const d = ue.pos[o] * es;
          for (let c = 0; c < es; c++) gE[d + c] += dx[b * es + c];
        }
      });
      this.opt.emb!.rows(ue.ids, gE, step);
    }
    this.opt.wx.dense(g.dwx, step);
    this.opt.wh.dense(g.dwh, step);
    this.opt.b.dense(g.db, step);
  }

  /** Free the kernel's backend state. */
  dispose(): void {
    this.pending = [];
    this.residentPending = [];
    (this.resident ?? this.kernel!).dispose();
  }
}

/**
 * A fixed-size WebAssembly memory for the hybrid kernel's weights and their Adagrad
 * state (model/simd.ts, `SimdStore`), with staging room for the largest gradient an
 * update copies in: a dense weight, the full-softmax item matrix, or a window's item
 * rows (≤ (2B + negatives)·T rows of width H + 1, plus their ids). Null when the memory
 * cannot be had; the weights then stay JS arrays and the JS optimiser runs.
 */
function simdStore(simd: SimdKernels, config: GruConfig, opts: TrainOptions): SimdStore | null {
  const H = config.hiddenSize;
  const E = inputSize(config);
  const C = H + 1;
  const N = config.numItems;
  const weights = N * C + (config.embedding === 'tied' ? 0 : N * E) + 3 * H * (E + H + 1);
  const copies = opts.momentum > 0 ? 3 : 2;
  const T = opts.bptt;
  const rows = (2 * opts.batchSize + opts.negatives) * T;
  const staging = Math.max(
    3 * H * Math.max(E, H),
    N * C,
    rows * (C + 1),
    opts.batchSize * T * (E + 1),
  );
  return simd.store(weights * copies, staging);
}

/** True when every weight is finite. */
export function allFinite(w: GruArrays): boolean {
  for (const a of [w.items, w.emb, w.wx, w.wh, w.b]) {
    if (!a) continue;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  }
  return true;
}

/** m[ids[b], 0..take) += g[b, 0..take) for a row-major m of row width `width`. */
function addRows(
  m: Float32Array,
  width: number,
  ids: Int32Array,
  g: Float32Array,
  take: number,
): void {
  for (let b = 0; b < ids.length; b++) {
    const o = ids[b] * width;
    for (let c = 0; c < take; c++) m[o + c] += g[b * take + c];
  }
}

function iota(n: number): Int32Array {
  const r = new Int32Array(n);
  for (let i = 0; i < n; i++) r[i] = i;
  return r;
}

function concatInt(a: Int32Array, b: Int32Array): Int32Array {
  const r = new Int32Array(a.length + b.length);
  r.set(a);
  r.set(b, a.length);
  return r;
}
