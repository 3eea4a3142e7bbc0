import * as tf from '@tensorflow/tfjs-core';
import { type GruConfig, inputSize } from '../../model/config';
import type { OptimizerHyper } from '../../model/optimizer';
import type { GruArrays } from '../../model/params';
import type { BatchStep } from '../batcher';
import { ItemMarks } from '../item-marks';
import type { TrainOptions } from '../options';
import { readBack } from './backend-io';
import { stepBackward, stepForward } from './device-ops';

/**
 * The resident kernel: the whole training step on the TF.js backend, for GPU backends.
 * Weights, optimiser state, the carried hidden state, the loss and its gradient all live
 * there; nothing is read back per step. Per optimiser update (one step, or one BPTT
 * window of steps) JS uploads one int32 tensor (the steps' candidate columns, inputs,
 * `keep` and reset flags, the touched item rows and each gradient row's place among
 * them) and, with dropout or a new learning rate, one float32 tensor (the masks, the
 * rate). The loss is summed on the device and read by `takeLoss` (every
 * `RESIDENT_LOSS_READ_EVERY` steps in trainGru, where divergence is checked); the weights
 * come back only through `arrays()`. docs/GPU.md has the measured counts.
 *
 * Same maths as the other kernels plus the JS optimiser (model/optimizer.ts): one-step
 * training or truncated BPTT windows, sampled cross-entropy with logQ and accidental-hit
 * masking, Adagrad (with or without momentum) or Adam, and sparse row-wise updates of the item rows a step touched (their
 * gradients summed per unique id first; weights and optimiser state of every other row
 * unchanged). Dropout masks come from the StepRunner's JS stream, as for the other
 * kernels, so a run is the same run on every kernel (to float32 rounding).
 *
 * Shapes stay fixed from step to step (WebGL bakes shapes into its shaders; a new shape
 * is a new compile): the unique rows are padded to T·(M + B) (tied) with a scratch row N
 * appended to the item matrix, so every padded slot updates that row, which no id reads.
 *
 * Not on this kernel (`residentRefusal` says which, and `auto` falls back to the device
 * kernel): BPR-max, full softmax.
 */

/** trainGru reads the resident kernel's summed loss once in this many steps. */
export const RESIDENT_LOSS_READ_EVERY = 100;

/** Why the resident kernel cannot run these settings, or null when it can. */
export function residentRefusal(opts: TrainOptions, fullSoftmax: boolean): string | null {
  if (opts.loss !== 'cross-entropy')
    return `the resident kernel computes cross-entropy only (loss ${opts.loss})`;
  if (fullSoftmax) return 'the resident kernel trains sampled softmax only (full softmax asked)';
  return null;
}

/** One step of a window: its batch, its columns (targets first), its dropout masks. */
export interface ResidentStep {
  batch: BatchStep;
  /** [M]: the batch's targets (column b is row b's target), then the shared negatives. */
  cols: Int32Array;
  maskIn: Float32Array | null;
  maskH: Float32Array | null;
}

/** A weight matrix and its optimiser state, as tensors. */
interface Slot {
  w: tf.Tensor;
  s1: tf.Tensor;
  s2: tf.Tensor | null;
}

export class ResidentKernel {
  readonly name = 'resident' as const;
  private readonly hs: number;
  private readonly es: number;
  private readonly cw: number;
  private readonly n: number;
  private readonly tied: boolean;
  private items: Slot;
  private emb: Slot | null;
  private wx: Slot;
  private wh: Slot;
  private b: Slot;
  /** Adam: β1ᵗ and β2ᵗ after the t updates so far. */
  private pow1: tf.Scalar | null = null;
  private pow2: tf.Scalar | null = null;
  private h: tf.Tensor2D | null = null;
  /** Sum of per-event losses since the last `takeLoss`, on the device. */
  private lossAcc: tf.Scalar;
  private lossEvents = 0;
  /** logQ · log q(item) for each row (and 0 for the scratch row), or null. */
  private readonly logQ: tf.Tensor1D | null;
  /** Scalars made once (every number an op is given is an upload otherwise). */
  private readonly c: Record<string, tf.Scalar>;
  private lrT: tf.Scalar;
  private lrVal: number;
  /** Target one-hot [B, M] (column b is row b's target) and 1/B, per (B, M). */
  private readonly eyes = new Map<string, { eye: tf.Tensor2D; invB: tf.Scalar }>();
  /** 1..U per padded row count U (`slotNumbers`). */
  private readonly slots = new Map<number, { numbers: tf.Tensor1D; last: tf.Scalar }>();
  // unique-id scratch (like StepRunner's)
  /** De-duplication scratch over the N + 1 rows (the scratch row included). */
  private readonly marks: ItemMarks;

  constructor(
    config: GruConfig,
    init: GruArrays,
    private readonly hp: OptimizerHyper,
    private readonly maskHits: boolean,
    /** log E[count] per item, times `logQ`, or null (no correction). */
    logQ: Float32Array | null,
    /** Hidden dropout on the carried state too (GRU4Rec) or on the scores' input only. */
    private readonly maskHOnState = true,
  ) {
    this.hs = config.hiddenSize;
    this.es = inputSize(config);
    this.cw = this.hs + 1;
    this.n = config.numItems;
    this.tied = config.embedding === 'tied';
    const withScratch = (a: Float32Array, width: number) => {
      const out = new Float32Array(a.length + width);
      out.set(a);
      return tf.tensor2d(out, [this.n + 1, width]);
    };
    this.items = this.slot(withScratch(init.items, this.cw));
    this.emb = init.emb ? this.slot(withScratch(init.emb, this.es)) : null;
    this.wx = this.slot(tf.tensor2d(init.wx, [this.es, 3 * this.hs]));
    this.wh = this.slot(tf.tensor2d(init.wh, [this.hs, 3 * this.hs]));
    this.b = this.slot(tf.tensor1d(init.b));
    if (hp.kind === 'adam') {
      this.pow1 = tf.scalar(1);
      this.pow2 = tf.scalar(1);
    }
    if (logQ) {
      const q = new Float32Array(this.n + 1);
      q.set(logQ.subarray(0, this.n));
      this.logQ = tf.tensor1d(q);
    } else this.logQ = null;
    this.c = {
      one: tf.scalar(1),
      negBig: tf.scalar(-1e9),
      mu: tf.scalar(hp.momentum),
      eps: tf.scalar(hp.eps),
      b1: tf.scalar(hp.beta1),
      nb1: tf.scalar(1 - hp.beta1),
      b2: tf.scalar(hp.beta2),
      nb2: tf.scalar(1 - hp.beta2),
      zeroI: tf.scalar(0, 'int32'),
      oneI: tf.scalar(1, 'int32'),
    };
    this.lrVal = hp.lr;
    this.lrT = tf.scalar(hp.lr);
    this.lossAcc = tf.scalar(0);
    this.marks = new ItemMarks(this.n + 1);
  }

  private slot(w: tf.Tensor): Slot {
    const momentum = this.hp.kind === 'adam' || this.hp.momentum > 0;
    return { w, s1: tf.zerosLike(w), s2: momentum ? tf.zerosLike(w) : null };
  }

  /**
   * One optimiser update from a window of consecutive steps (one step: GRU4Rec's
   * one-step training; T > 1: truncated BPTT, as the other kernels' `runWindow`): forward
   * through the steps, each step's loss added on the device, back through time, then the
   * window's gradients summed per unique item row and one sparse update. Nothing is read
   * back. The steps' arrays are copied here, so the caller may reuse its buffers.
   */
  run(steps: readonly ResidentStep[]): void {
    const { hs, es, cw, tied } = this;
    const T = steps.length;
    // ---- JS: the window's ints in one upload, its masks in (at most) one more ----
    // every (row id, gradient row) pair: per step its columns, then (tied) its inputs
    let listLen = 0;
    for (const s of steps) listLen += s.cols.length + (tied ? s.batch.inputs.length : 0);
    const list = new Int32Array(listLen);
    let embLen = 0;
    for (const s of steps) embLen += s.batch.inputs.length;
    const embList = tied ? null : new Int32Array(embLen);
    {
      let o = 0;
      let e = 0;
      for (const s of steps) {
        list.set(s.cols, o);
        o += s.cols.length;
        if (tied) {
          list.set(s.batch.inputs, o);
          o += s.batch.inputs.length;
        } else {
          embList!.set(s.batch.inputs, e);
          e += s.batch.inputs.length;
        }
      }
    }
    // padded unique counts: fixed for fixed shapes of the steps
    const uq = this.unique(list, list.length);
    const eu = embList ? this.unique(embList, embList.length) : null;
    let size = 2 * list.length + (eu ? 2 * embLen : 0);
    let floats = 0;
    for (const s of steps) {
      const B = s.batch.inputs.length;
      size += s.cols.length + B + (s.batch.keep ? B : 0) + (s.batch.resets ? B : 0);
      floats += (s.maskIn ? B * es : 0) + (s.maskH ? B * hs : 0);
    }
    // a new learning rate (a schedule: every update) rides with the masks' upload
    const newLr = this.lrVal !== this.hp.lr;
    if (newLr) {
      this.lrVal = this.hp.lr;
      floats++;
    }
    const ints = new Int32Array(size);
    const maskVals = floats ? new Float32Array(floats) : null;
    if (newLr) maskVals![floats - 1] = this.hp.lr;
    let o = 0;
    const put = (a: Int32Array) => {
      ints.set(a, o);
      o += a.length;
    };
    put(uq.ids);
    put(uq.pos);
    if (eu) {
      put(eu.ids);
      put(eu.pos);
    }
    let f = 0;
    for (const s of steps) {
      const B = s.batch.inputs.length;
      put(s.cols);
      put(s.batch.inputs);
      if (s.batch.keep) put(s.batch.keep);
      if (s.batch.resets) {
        const carry = new Int32Array(B).fill(1);
        for (const r of s.batch.resets) carry[r] = 0;
        put(carry);
      }
      for (const m of [s.maskIn, s.maskH]) {
        if (!m) continue;
        maskVals!.set(m, f);
        f += m.length;
      }
    }
    const shapes = steps.map((s) => this.eye(s.batch.inputs.length, s.cols.length));
    const prev = this.h;
    const oldLr = this.lrT;
    interface Next {
      items: Slot;
      emb: Slot | null;
      wx: Slot;
      wh: Slot;
      b: Slot;
      pow: { p1: tf.Scalar; p2: tf.Scalar } | null;
      h: tf.Tensor2D;
      loss: tf.Scalar;
      lr: tf.Scalar | null;
    }
    // (tf.tidy keeps every tensor of the returned object, however nested)
    let next: Next;
    try {
      next = tf.tidy((): tf.TensorContainer => {
        const all = tf.tensor1d(ints, 'int32');
        const masks = maskVals ? tf.tensor1d(maskVals) : null;
        let at = 0;
        const take = (k: number) => {
          const t = tf.slice(all, at, k) as tf.Tensor1D;
          at += k;
          return t;
        };
        let mAt = 0;
        const takeMask = (r: number, c: number) => {
          const t = tf.reshape(tf.slice(masks!, mAt, r * c), [r, c]) as tf.Tensor2D;
          mAt += r * c;
          return t;
        };
        const lr = newLr ? (tf.reshape(tf.slice(masks!, floats - 1, 1), []) as tf.Scalar) : null;
        if (lr) this.lrT = lr; // (the old one is freed after the tidy)
        const uqIds = take(list.length);
        const uqPos = take(list.length);
        const euIds = eu ? take(embLen) : null;
        const euPos = eu ? take(embLen) : null;
        // ---- forward through the window, each step's loss on the way ----
        const per = steps.map((s, t) => {
          const B = s.batch.inputs.length;
          const M = s.cols.length;
          const colsT = take(M);
          const inT = take(B);
          const keepT = s.batch.keep ? take(B) : null;
          const carry = s.batch.resets
            ? (tf.reshape(tf.cast(take(B), 'float32'), [B, 1]) as tf.Tensor2D)
            : null;
          const maskIn = s.maskIn ? takeMask(B, es) : null;
          const maskH = s.maskH ? takeMask(B, hs) : null;
          return { B, M, colsT, inT, keepT, carry, maskIn, maskH, ...shapes[t] };
        });
        let state: tf.Tensor2D | null = prev;
        let lossSum: tf.Tensor = this.lossAcc;
        const fwds = per.map((p) => {
          let h: tf.Tensor2D;
          if (!state)
            h = tf.fill([p.B, hs], 0); // (tf.zeros would be an upload)
          else {
            h = state;
            if (p.keepT) h = tf.gather(h, p.keepT);
            if (p.carry) h = tf.mul(h, p.carry);
          }
          const colW = tf.gather(this.items.w, p.colsT) as tf.Tensor2D;
          const x = tied
            ? (tf.slice(tf.gather(this.items.w, p.inT), [0, 0], [p.B, hs]) as tf.Tensor2D)
            : (tf.gather(this.emb!.w, p.inT) as tf.Tensor2D);
          const fw = stepForward({
            x,
            h,
            wx: this.wx.w as tf.Tensor2D,
            wh: this.wh.w as tf.Tensor2D,
            b: this.b.w as tf.Tensor1D,
            colW,
            maskIn: p.maskIn,
            maskH: p.maskH,
            maskHOnState: this.maskHOnState,
          });
          state = fw.out;
          // ---- loss: sampled cross-entropy, logQ, accidental hits ----
          let z: tf.Tensor2D = fw.S;
          if (this.logQ) z = tf.sub(z, tf.reshape(tf.gather(this.logQ, p.colsT), [1, p.M]));
          if (this.maskHits) {
            // a column j ≠ b holding row b's target item again
            const target = tf.reshape(tf.slice(p.colsT, 0, p.B), [p.B, 1]);
            const same = tf.equal(target, tf.reshape(p.colsT, [1, p.M]));
            const hit = tf.mul(tf.cast(same, 'float32'), tf.sub(this.c.one, p.eye));
            z = tf.add(z, tf.mul(hit, this.c.negBig));
          }
          const logP = tf.logSoftmax(z);
          lossSum = tf.sub(lossSum, tf.sum(tf.mul(logP, p.eye)));
          const dS = tf.mul(tf.sub(tf.exp(logP), p.eye), p.invB) as tf.Tensor2D;
          return { fw, dS };
        });
        // ---- backward through time ----
        const rowGrads: tf.Tensor[] = new Array(T);
        const embGrads: tf.Tensor[] = new Array(T);
        let dwx: tf.Tensor | null = null;
        let dwh: tf.Tensor | null = null;
        let db: tf.Tensor | null = null;
        let dOutNext: tf.Tensor2D | null = null;
        for (let t = T - 1; t >= 0; t--) {
          const p = per[t];
          const g = stepBackward(fwds[t].fw, fwds[t].dS, dOutNext, t > 0, this.c.one);
          dwx = dwx ? tf.add(dwx, g.dwx) : g.dwx;
          dwh = dwh ? tf.add(dwh, g.dwh) : g.dwh;
          db = db ? tf.add(db, g.db) : g.db;
          rowGrads[t] = tied
            ? tf.concat(
                [
                  g.dColW,
                  tf.pad(g.dx, [
                    [0, 0],
                    [0, 1],
                  ]),
                ],
                0,
              )
            : g.dColW;
          embGrads[t] = g.dx;
          if (t > 0) {
            // dL/do of step t−1's rows: reset rows get nothing, `keep` maps rows back
            let dh = g.dh!;
            if (p.carry) dh = tf.mul(dh, p.carry);
            if (p.keepT) dh = tf.scatterND(tf.reshape(p.keepT, [p.B, 1]), dh, [per[t - 1].B, hs]);
            dOutNext = dh;
          }
        }
        // ---- optimiser: sparse item rows, dense GRU weights ----
        let pow: { p1: tf.Scalar; p2: tf.Scalar } | null = null;
        if (this.pow1 && this.pow2)
          pow = { p1: tf.mul(this.pow1, this.c.b1), p2: tf.mul(this.pow2, this.c.b2) };
        const U = list.length;
        const rows = T === 1 ? rowGrads[0] : tf.concat(rowGrads, 0);
        const gU = tf.scatterND(tf.reshape(uqPos, [U, 1]), rows, [U, cw]);
        const items = this.sparse(this.items, uqIds, gU, pow);
        let emb: Slot | null = null;
        if (eu) {
          const dx = T === 1 ? embGrads[0] : tf.concat(embGrads, 0);
          const gE = tf.scatterND(tf.reshape(euPos!, [embLen, 1]), dx, [embLen, es]);
          emb = this.sparse(this.emb!, euIds!, gE, pow);
        }
        const out: Next = {
          items,
          emb,
          wx: this.update(this.wx, dwx!, pow),
          wh: this.update(this.wh, dwh!, pow),
          b: this.update(this.b, db!, pow),
          pow,
          h: state!,
          loss: lossSum as tf.Scalar,
          lr,
        };
        return out as unknown as tf.TensorContainer;
      }) as unknown as Next;
    } catch (e) {
      // the tidy freed the window's tensors; the state stays as it was
      this.lrT = oldLr;
      if (newLr) this.lrVal = Number.NaN;
      throw e;
    }
    const old: (tf.Tensor | null)[] = [prev, this.lossAcc, this.pow1, this.pow2];
    if (next.lr) old.push(oldLr);
    for (const s of [this.items, this.emb, this.wx, this.wh, this.b])
      if (s) old.push(s.w, s.s1, s.s2);
    this.items = next.items;
    this.emb = next.emb;
    this.wx = next.wx;
    this.wh = next.wh;
    this.b = next.b;
    if (next.pow) {
      this.pow1 = next.pow.p1;
      this.pow2 = next.pow.p2;
    }
    this.h = next.h;
    this.lossAcc = next.loss;
    for (const st of steps) this.lossEvents += st.batch.inputs.length;
    for (const t of old) t?.dispose();
  }

  /** Sum of per-event losses since the last call and over how many events: one read. */
  async takeLoss(): Promise<{ sum: number; events: number }> {
    const [v] = await readBack([this.lossAcc]);
    const events = this.lossEvents;
    const old = this.lossAcc;
    this.lossAcc = tf.zerosLike(old); // (a kernel; tf.scalar(0) would be an upload)
    old.dispose();
    this.lossEvents = 0;
    return { sum: v[0], events };
  }

  /** The weights in the model's layout: one read of all of them. */
  async arrays(): Promise<GruArrays> {
    const { n, cw, es } = this;
    const parts = [this.items.w, this.emb?.w ?? null, this.wx.w, this.wh.w, this.b.w];
    const flat = tf.tidy(() =>
      tf.concat(
        parts.filter((t): t is tf.Tensor => t !== null).map((t) => tf.reshape(t, [-1])),
        0,
      ),
    );
    let all: Float32Array;
    try {
      [all] = await readBack([flat]);
    } finally {
      flat.dispose();
    }
    let o = 0;
    const next = (len: number, skip = 0) => {
      const a = all.slice(o, o + len);
      o += len + skip;
      return a;
    };
    const items = next(n * cw, cw);
    const emb = this.emb ? next(n * es, es) : null;
    const wx = next(this.wx.w.size);
    const wh = next(this.wh.w.size);
    const b = next(this.b.w.size);
    return { items, emb, wx, wh, b };
  }

  resetHidden(): void {
    this.h?.dispose();
    this.h = null;
  }

  dispose(): void {
    this.resetHidden();
    const all: (tf.Tensor | null)[] = [this.lossAcc, this.pow1, this.pow2, this.logQ, this.lrT];
    for (const s of [this.items, this.emb, this.wx, this.wh, this.b])
      if (s) all.push(s.w, s.s1, s.s2);
    all.push(...Object.values(this.c));
    for (const e of this.eyes.values()) all.push(e.eye, e.invB);
    for (const t of this.slots.values()) all.push(t.numbers, t.last);
    this.slots.clear();
    this.eyes.clear();
    for (const t of all) if (t && !t.isDisposed) t.dispose();
  }

  /** [B, M] one-hot of each row's target column (b) and 1/B, made once per shape. */
  private eye(B: number, M: number): { eye: tf.Tensor2D; invB: tf.Scalar } {
    const key = `${B}x${M}`;
    let e = this.eyes.get(key);
    if (!e) {
      const a = new Float32Array(B * M);
      for (let r = 0; r < B; r++) a[r * M + r] = 1;
      e = { eye: tf.tensor2d(a, [B, M]), invB: tf.scalar(1 / B) };
      this.eyes.set(key, e);
    }
    return e;
  }

  /**
   * Unique ids of `list`, padded to `pad` entries with the scratch row, and each entry's
   * position among them (the JS optimiser's grouping, in the same first-seen order).
   */
  private unique(list: Int32Array, pad: number): { ids: Int32Array; pos: Int32Array } {
    const ids = new Int32Array(pad).fill(this.n);
    const pos = new Int32Array(list.length);
    this.marks.unique(list, ids, pos);
    return { ids, pos };
  }

  /**
   * Optimiser step of the rows `ids` of a slot (U of them: unique, but for the padding
   * with the scratch row; gradient rows `g` [U, width]); every other row kept as it was.
   * The new rows go back by a gather and a select over the table, not by
   * `tensorScatterUpdate`: WebGL's scatter program loops over all U updates for each of
   * the table's (N+1)·width outputs, O(N·width·U), 270 M iterations per array at the
   * bench settings; the resident step ran 15× slower than the device kernel on
   * SwiftShader's WebGL with it. Here only the row → slot map is scattered (width 1) and
   * the rest is O(N·width).
   */
  private sparse(
    s: Slot,
    ids: tf.Tensor1D,
    g: tf.Tensor,
    pow: { p1: tf.Scalar; p2: tf.Scalar } | null,
  ): Slot {
    const U = ids.shape[0];
    const rows: Slot = {
      w: tf.gather(s.w, ids),
      s1: tf.gather(s.s1, ids),
      s2: s.s2 ? tf.gather(s.s2, ids) : null,
    };
    const r = this.update(rows, g, pow);
    // slot + 1 of each touched row, 0 elsewhere (the scratch row's value is the sum of
    // its padded slots, as scatterND sums repeats: clamped, it takes some slot's row)
    const { numbers, last } = this.slotNumbers(U);
    const at = tf.scatterND(tf.reshape(ids, [U, 1]), numbers, [this.n + 1]);
    // (minimum/maximum: clipByValue of int32 indices gave out-of-range values on WASM)
    const from = tf.minimum(tf.maximum(tf.sub(at, this.c.oneI), this.c.zeroI), last);
    const touched = tf.broadcastTo(
      tf.reshape(tf.greater(at, this.c.zeroI), [this.n + 1, 1]),
      s.w.shape as [number, number],
    );
    const put = (old: tf.Tensor, fresh: tf.Tensor) =>
      tf.where(touched, tf.gather(fresh, from), old);
    return {
      w: put(s.w, r.w),
      s1: put(s.s1, r.s1),
      s2: s.s2 && r.s2 ? put(s.s2, r.s2) : null,
    };
  }

  /** 1..U and U − 1 as int32, made once per U. */
  private slotNumbers(U: number): { numbers: tf.Tensor1D; last: tf.Scalar } {
    let t = this.slots.get(U);
    if (!t) {
      t = {
        numbers: tf.keep(tf.range(1, U + 1, 1, 'int32')),
        last: tf.keep(tf.scalar(U - 1, 'int32')),
      };
      this.slots.set(U, t);
    }
    return t;
  }

  /** The optimiser of model/optimizer.ts on tensors (new tensors; `s` untouched). */
  private update(s: Slot, g: tf.Tensor, pow: { p1: tf.Scalar; p2: tf.Scalar } | null): Slot {
    const { c, lrT } = this;
    if (this.hp.kind === 'adam') {
      // m = β1 m + (1−β1) g;  v = β2 v + (1−β2) g²;  w −= (lr/c1) m / (√(v/c2) + ε)
      const m = tf.add(tf.mul(c.b1, s.s1), tf.mul(c.nb1, g));
      const v = tf.add(tf.mul(c.b2, s.s2!), tf.mul(tf.mul(c.nb2, g), g));
      const c1 = tf.sub(c.one, pow!.p1);
      const c2 = tf.sub(c.one, pow!.p2);
      const step = tf.div(tf.mul(tf.div(lrT, c1), m), tf.add(tf.sqrt(tf.div(v, c2)), c.eps));
      return { w: tf.sub(s.w, step), s1: m, s2: v };
    }
    // acc += g²;  u = lr·g / √(acc + ε);  v = μ·v + u;  W −= v
    const a = tf.add(s.s1, tf.mul(g, g));
    const u = tf.div(tf.mul(lrT, g), tf.sqrt(tf.add(a, c.eps)));
    if (!s.s2) return { w: tf.sub(s.w, u), s1: a, s2: null };
    const v = tf.add(tf.mul(c.mu, s.s2), u);
    return { w: tf.sub(s.w, v), s1: a, s2: v };
  }
}
