import * as tf from '@tensorflow/tfjs-core';
import { type GruConfig, inputSize } from '../model/config';
import { type ForwardState, stepBackward, stepForward } from '../model/grads';
import { crossEntropyTDevice, lossJs } from '../model/loss-js';
import { type MatMuls, readBack, tfMatMuls, transposeJs } from '../model/matmul';
import { OptimizedArray, type OptimizerHyper } from '../model/optimizer';
import type { GruArrays } from '../model/params';
import { Rng } from '../model/rng';
import { backwardJs, forwardJs } from '../model/step-js';
import type { BatchStep } from './batcher';
import type { TrainOptions } from './options';

/**
 * One session-parallel training step, split between JS and the TF.js backend:
 *
 *   JS      columns = [batch targets (B) | shared negatives (S)] (or every item: full
 *           softmax); copy their rows of the item matrix ([N, H+1], the output bias as
 *           last column) and the inputs' rows; accidental-hit mask; logQ; dropout masks
 *   device  GRU step, scores S = [h', 1]·Wcᵀ, loss, exact one-step gradients (no BPTT,
 *           see model/grads.ts); the hidden state and the loss sum stay on the device
 *   JS      read the gradients back, sum them per unique item row, sparse row-wise
 *           update of the touched item rows, dense update of the GRU weights
 *
 * Weights and optimiser state live in JS arrays during training (see
 * model/optimizer.ts for why); the model's tensors are made once at the end.
 */
export class StepRunner {
  /**
   * Weights during training. With the hybrid engine `wx` and `wh` are kept transposed
   * (W̃x = Wxᵀ [3H, E], W̃h = Whᵀ [3H, H], see model/step-js.ts); `arrays()` gives the
   * usual layout.
   */
  private readonly w: GruArrays;
  private readonly transposed: boolean;
  private readonly opt: {
    items: OptimizedArray;
    emb: OptimizedArray | null;
    wx: OptimizedArray;
    wh: OptimizedArray;
    b: OptimizedArray;
  };
  private h: tf.Tensor2D | null = null;
  private hJs: Float32Array | null = null;
  private lossAcc = 0;
  private stepNo = 0;
  private readonly rng: Rng;
  private readonly full: boolean;
  // de-duplication scratch: stamp[item] === stampNo marks items seen in this pass
  private readonly stamp: Int32Array;
  private readonly where: Int32Array;
  private stampNo = 0;
  /**
   * Milliseconds per phase: JS prep, forward + loss + backward (`compute`, which includes
   * `products`, the backend matMul round trips of the hybrid engine, and `loss`), JS
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
    this.transposed = opts.engine === 'hybrid';
    const h3 = 3 * this.hs;
    this.w = {
      items: init.items.slice(),
      emb: init.emb ? init.emb.slice() : null,
      wx: this.transposed ? transposeJs(init.wx, this.es, h3) : init.wx.slice(),
      wh: this.transposed ? transposeJs(init.wh, this.hs, h3) : init.wh.slice(),
      b: init.b.slice(),
    };
    this.opt = {
      items: new OptimizedArray(this.w.items, this.cw, hp),
      emb: this.w.emb ? new OptimizedArray(this.w.emb, this.es, hp) : null,
      wx: new OptimizedArray(this.w.wx, 0, hp),
      wh: new OptimizedArray(this.w.wh, 0, hp),
      b: new OptimizedArray(this.w.b, 0, hp),
    };
    this.rng = new Rng(opts.seed ^ 0x2545f491);
    this.full = opts.fullSoftmaxMaxItems >= config.numItems;
    this.stamp = new Int32Array(config.numItems).fill(-1);
    this.where = new Int32Array(config.numItems);
  }

  /** A copy of the current weights in the model's layout. */
  arrays(): GruArrays {
    const { w } = this;
    const h3 = 3 * this.hs;
    return {
      items: w.items.slice(),
      emb: w.emb ? w.emb.slice() : null,
      wx: this.transposed ? transposeJs(w.wx, h3, this.es) : w.wx.slice(),
      wh: this.transposed ? transposeJs(w.wh, h3, this.hs) : w.wh.slice(),
      b: w.b.slice(),
    };
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
    this.h?.dispose();
    this.h = null;
    this.hJs = null;
  }

  /** Sum of per-event losses since the last call. */
  takeLossSum(): number {
    const v = this.lossAcc;
    this.lossAcc = 0;
    return v;
  }

  /** True when every weight is finite. */
  weightsFinite(): boolean {
    for (const a of [this.w.items, this.w.emb, this.w.wx, this.w.wh, this.w.b]) {
      if (!a) continue;
      for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
    }
    return true;
  }

  /** Unique ids of `list` and each entry's position among them. */
  private unique(list: Int32Array): { ids: Int32Array; pos: Int32Array } {
    const no = ++this.stampNo;
    const ids = new Int32Array(list.length);
    const pos = new Int32Array(list.length);
    let u = 0;
    for (let k = 0; k < list.length; k++) {
      const v = list[k];
      if (this.stamp[v] !== no) {
        this.stamp[v] = no;
        this.where[v] = u;
        ids[u++] = v;
      }
      pos[k] = this.where[v];
    }
    return { ids: ids.slice(0, u), pos };
  }

  /**
   * Accidental hits: (b, j) pairs where column j ≠ b holds row b's target item; null
   * when there is none. Rows are found per column through a per-item row list.
   */
  private hitPairs(targets: Int32Array, cols: Int32Array): Int32Array | null {
    const B = targets.length;
    const M = cols.length;
    const no = ++this.stampNo;
    const nextRow = new Int32Array(B).fill(-1);
    for (let b = B - 1; b >= 0; b--) {
      const t = targets[b];
      nextRow[b] = this.stamp[t] === no ? this.where[t] : -1;
      this.stamp[t] = no;
      this.where[t] = b;
    }
    const pairs: number[] = [];
    for (let j = 0; j < M; j++) {
      const c = cols[j];
      if (this.stamp[c] !== no) continue;
      for (let b = this.where[c]; b >= 0; b = nextRow[b]) if (b !== j) pairs.push(b, j);
    }
    return pairs.length ? Int32Array.from(pairs) : null;
  }

  /** Copy rows `ids` of a row-major matrix (row width `src`, first `take` columns). */
  private static rows(m: Float32Array, width: number, take: number, ids: Int32Array): Float32Array {
    const out = new Float32Array(ids.length * take);
    for (let k = 0; k < ids.length; k++) {
      const o = ids[k] * width;
      out.set(m.subarray(o, o + take), k * take);
    }
    return out;
  }

  /**
   * One training step. Asynchronous: reads from the backend go through `readBack`
   * (model/matmul.ts), asynchronous on WebGPU.
   */
  async step(batch: BatchStep, negatives: Int32Array | null): Promise<void> {
    const { opts, hs, es, cw, w } = this;
    const B = batch.inputs.length;
    const tied = this.config.embedding === 'tied';
    const N = this.config.numItems;
    this.stepNo++;
    const t0 = performance.now();

    // ---- JS: candidate columns, their rows, masks ----------------------------------
    const cols = this.full ? null : concatInt(batch.targets, negatives ?? new Int32Array(0));
    const M = cols ? cols.length : N;
    const colRows = cols ? StepRunner.rows(w.items, cw, cw, cols) : w.items;
    const xRows = tied
      ? StepRunner.rows(w.items, cw, hs, batch.inputs)
      : StepRunner.rows(w.emb!, es, es, batch.inputs);
    const hits = cols && opts.maskHits ? this.hitPairs(batch.targets, cols) : null;
    let logQCols: Float32Array | null = null;
    if (cols && this.logQ && opts.loss === 'cross-entropy' && opts.logQ > 0) {
      logQCols = new Float32Array(M);
      for (let j = 0; j < M; j++) logQCols[j] = opts.logQ * this.logQ[cols[j]];
    }
    const maskIn =
      opts.dropoutEmbedding > 0
        ? this.rng.fillDropoutMask(new Float32Array(B * es), opts.dropoutEmbedding)
        : null;
    const maskH =
      opts.dropoutHidden > 0
        ? this.rng.fillDropoutMask(new Float32Array(B * hs), opts.dropoutHidden)
        : null;

    const t1 = performance.now();
    // column of row b's target: b when sampled (targets come first), else the item
    const targetCol = cols ? iota(B) : batch.targets;
    const lossOf = (S: Float32Array) => {
      const tl = performance.now();
      let mask: Float32Array | null = null;
      if (hits) {
        mask = new Float32Array(B * M);
        for (let k = 0; k < hits.length; k += 2) mask[hits[k] * M + hits[k + 1]] = -1e9;
      }
      const r = lossJs(
        S,
        B,
        M,
        (b) => targetCol[b],
        { kind: opts.loss, bprReg: opts.bprReg, elu: opts.elu },
        logQCols,
        mask,
      );
      this.lossAcc += r.lossSum;
      this.timing.loss += performance.now() - tl;
      return r.dS;
    };
    // the hybrid engine's scores come transposed ([M, B])
    const lossOfT = async (ST: Float32Array) => {
      if (opts.loss !== 'cross-entropy') {
        const dS = lossOf(transposeJs(ST, M, B));
        return { dS, dST: transposeJs(dS, B, M) };
      }
      const tl = performance.now();
      const r = await crossEntropyTDevice(
        ST,
        B,
        M,
        targetCol,
        logQCols,
        hits,
        new Float32Array(B * M),
      );
      this.lossAcc += r.lossSum;
      this.timing.loss += performance.now() - tl;
      return r;
    };
    const inputs = { xRows, colRows, maskIn, maskH, B, M };
    const g =
      opts.engine === 'device'
        ? await this.runDevice(batch, inputs, lossOf)
        : await this.runHybrid(batch, inputs, lossOfT);
    const t4 = performance.now();
    // ---- JS: optimiser updates (a plain method: see model/step-js.ts on async loops) ----
    this.update(g, batch, cols, M);
    const t5 = performance.now();
    this.timing.prep += t1 - t0;
    this.timing.compute += t4 - t1;
    this.timing.update += t5 - t4;
  }

  /** Optimiser updates of a step's gradients (sparse item rows, dense GRU weights). */
  private update(g: StepGrads, batch: BatchStep, cols: Int32Array | null, M: number): void {
    const { hs, es, cw } = this;
    const B = batch.inputs.length;
    const tied = this.config.embedding === 'tied';
    const { dColW, dx, dwx, dwh, db } = g; // dwx/dwh in the layout of this.w

    const step = this.stepNo;
    if (!cols) {
      // full softmax: every item row has a gradient; add the input rows' part (tied)
      if (tied) addRows(dColW, cw, batch.inputs, dx, hs);
      this.opt.items.dense(dColW, step);
    } else {
      const list = tied ? concatInt(cols, batch.inputs) : cols;
      const uq = this.unique(list);
      const gU = new Float32Array(uq.ids.length * cw);
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

  /** Hybrid engine: elementwise maths in JS, matrix products on the backend. */
  private async runHybrid(
    batch: BatchStep,
    i: StepArrays,
    lossOf: (ST: Float32Array) => Promise<{ dS: Float32Array; dST: Float32Array }>,
  ): Promise<StepGrads> {
    const { hs, es, w } = this;
    const { B, M } = i;
    // carried hidden state: drop finished rows, zero restarted ones
    let h: Float32Array;
    const prev = this.hJs;
    if (!prev) h = new Float32Array(B * hs);
    else {
      h = prev;
      if (batch.keep) {
        h = new Float32Array(B * hs);
        for (let r = 0; r < B; r++)
          h.set(prev.subarray(batch.keep[r] * hs, batch.keep[r] * hs + hs), r * hs);
      }
      if (batch.resets) for (const r of batch.resets) h.fill(0, r * hs, r * hs + hs);
    }
    const mm: MatMuls = async (jobs) => {
      const t = performance.now();
      const r = await tfMatMuls(jobs);
      this.timing.products += performance.now() - t;
      return r;
    };
    const f = await forwardJs(
      mm,
      {
        x: i.xRows,
        h,
        wxT: w.wx,
        whT: w.wh,
        b: w.b,
        colW: i.colRows,
        maskIn: i.maskIn,
        maskH: i.maskH,
      },
      B,
      es,
      hs,
      M,
    );
    this.hJs = f.out;
    const { dS, dST } = await lossOf(f.ST);
    const g = await backwardJs(mm, f, dS, dST);
    return { dColW: g.dColW, dx: g.dx, dwx: g.dwxT, dwh: g.dwhT, db: g.db };
  }

  /** Device engine: every op on the backend (no JS in the step but the loss). */
  private async runDevice(
    batch: BatchStep,
    i: StepArrays,
    lossOf: (S: Float32Array) => Float32Array,
  ): Promise<StepGrads> {
    const { hs, es, cw, w } = this;
    const { B, M } = i;
    const prev = this.h;
    const fwd = tf.tidy(() => {
      let h: tf.Tensor2D;
      if (!prev) h = tf.zeros([B, hs]);
      else {
        h = prev;
        if (batch.keep) h = tf.gather(h, tf.tensor1d(batch.keep, 'int32'));
        if (batch.resets) {
          const m = new Float32Array(B).fill(1);
          for (const r of batch.resets) m[r] = 0;
          h = tf.mul(h, tf.tensor2d(m, [B, 1]));
        }
      }
      const f = stepForward({
        x: tf.tensor2d(i.xRows, [B, es]),
        h,
        wx: tf.tensor2d(w.wx, [es, 3 * hs]),
        wh: tf.tensor2d(w.wh, [hs, 3 * hs]),
        b: tf.tensor1d(w.b),
        colW: tf.tensor2d(i.colRows, [M, cw]),
        maskIn: i.maskIn ? tf.tensor2d(i.maskIn, [B, es]) : null,
        maskH: i.maskH ? tf.tensor2d(i.maskH, [B, hs]) : null,
      });
      return f as unknown as tf.TensorContainer;
    }) as unknown as ForwardState;
    // this step's forward tensors, but the previous state and `keep`
    const free = (keep: tf.Tensor | null) => {
      for (const t of collect(fwd)) if (t !== keep && t !== prev && !t.isDisposed) t.dispose();
    };
    let res: Record<keyof StepGrads, tf.Tensor>;
    try {
      const [S] = await readBack([fwd.S]);
      const dS = lossOf(S);
      res = tf.tidy(() => {
        const g = stepBackward(fwd, tf.tensor2d(dS, [B, M]));
        return { dColW: g.dColW, dx: g.dx, dwx: g.dwx, dwh: g.dwh, db: g.db };
      });
    } catch (e) {
      // a failed read (a lost GPU context) or loss: free this step's tensors, keep the
      // carried state as it was
      free(null);
      throw e;
    }
    prev?.dispose();
    this.h = tf.keep(fwd.out);
    free(fwd.out); // everything but the new carried state
    const all = [res.dColW, res.dx, res.dwx, res.dwh, res.db];
    try {
      const [dColW, dx, dwx, dwh, db] = await readBack(all);
      return { dColW, dx, dwx, dwh, db };
    } finally {
      tf.dispose(all);
    }
  }

  /** Free the device state (hidden state, loss sum, cached targets). */
  dispose(): void {
    this.h?.dispose();
    this.h = null;
  }
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

/** A step's gradients; `dwx`/`dwh` in the runner's weight layout. */
interface StepGrads {
  dColW: Float32Array;
  dx: Float32Array;
  dwx: Float32Array;
  dwh: Float32Array;
  db: Float32Array;
}

interface StepArrays {
  xRows: Float32Array;
  colRows: Float32Array;
  maskIn: Float32Array | null;
  maskH: Float32Array | null;
  B: number;
  M: number;
}

/** Every tensor reachable from a forward state (inputs, cache, outputs). */
function collect(f: ForwardState): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  const add = (v: unknown) => {
    if (v instanceof tf.Tensor) out.push(v);
  };
  for (const v of Object.values(f.inputs)) add(v);
  for (const v of Object.values(f.cache)) add(v);
  add(f.out);
  add(f.outAug);
  add(f.S);
  return out;
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
