import * as tf from '@tensorflow/tfjs-core';
import { type GruConfig, inputSize } from '../../model/config';
import type { GruArrays } from '../../model/params';
import { readBack } from './backend-io';
import { type ForwardState, stepBackward, stepForward } from './device-ops';
import type { PreparedStep, StepGrads, StepKernel, WindowGrads } from './kernel';

/**
 * The device kernel: every op of the step on the TF.js backend (device-ops.ts) but the
 * loss, which reads the scores S [B, M] back and runs in its row form. Two reads per
 * step instead of the hybrid kernel's six: the step for GPU backends.
 *
 * Weight layout: the model's (wx [E, 3H], wh [H, 3H]). The carried hidden state stays
 * on the device as a tensor.
 */
export class DeviceKernel implements StepKernel {
  readonly name = 'device' as const;
  readonly weights: GruArrays;
  private h: tf.Tensor2D | null = null;
  private readonly hs: number;
  private readonly es: number;

  constructor(
    config: GruConfig,
    /** Initial weights in the model's layout; copied. */
    init: GruArrays,
  ) {
    this.hs = config.hiddenSize;
    this.es = inputSize(config);
    this.weights = {
      items: init.items.slice(),
      emb: init.emb ? init.emb.slice() : null,
      wx: init.wx.slice(),
      wh: init.wh.slice(),
      b: init.b.slice(),
    };
  }

  arrays(): GruArrays {
    const w = this.weights;
    return {
      items: w.items.slice(),
      emb: w.emb ? w.emb.slice() : null,
      wx: w.wx.slice(),
      wh: w.wh.slice(),
      b: w.b.slice(),
    };
  }

  resetHidden(): void {
    this.h?.dispose();
    this.h = null;
  }

  /** The forward tensors of a step from the carried state `prev` (not disposed here). */
  private forward(i: PreparedStep, prev: tf.Tensor2D | null): ForwardState {
    const { hs, es, weights: w } = this;
    const cw = hs + 1;
    const { B, M, batch } = i;
    return tf.tidy(() => {
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
        maskHOnState: i.maskHOnState,
      });
      return f as unknown as tf.TensorContainer;
    }) as unknown as ForwardState;
  }

  async run(i: PreparedStep): Promise<StepGrads> {
    const { B, M } = i;
    const prev = this.h;
    const fwd = this.forward(i, prev);
    // this step's forward tensors, but the previous state and `keep`
    const free = (keep: tf.Tensor | null) => {
      for (const t of collect(fwd)) if (t !== keep && t !== prev && !t.isDisposed) t.dispose();
    };
    let res: Record<keyof StepGrads, tf.Tensor>;
    try {
      const [S] = await readBack([fwd.S]);
      const dS = i.loss.rows(S);
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

  async runWindow(steps: readonly PreparedStep[]): Promise<WindowGrads> {
    const first = this.h;
    const fwds: ForwardState[] = [];
    const dSs: Float32Array[] = [];
    // every tensor of the window's forward passes but the new carried state
    const free = (keep: tf.Tensor | null) => {
      const seen = new Set<tf.Tensor>();
      for (const f of fwds)
        for (const t of collect(f)) if (t !== keep && !seen.has(t) && !t.isDisposed) seen.add(t);
      if (first && first !== keep) seen.add(first);
      for (const t of seen) if (!t.isDisposed) t.dispose();
    };
    let res: { steps: tf.Tensor[][]; dwx: tf.Tensor; dwh: tf.Tensor; db: tf.Tensor };
    try {
      let prev = first;
      for (const i of steps) {
        const f = this.forward(i, prev);
        fwds.push(f);
        prev = f.out;
        const [S] = await readBack([f.S]);
        dSs.push(i.loss.rows(S));
      }
      res = tf.tidy(() => {
        const out: tf.Tensor[][] = new Array(steps.length);
        let dwx: tf.Tensor | null = null;
        let dwh: tf.Tensor | null = null;
        let db: tf.Tensor | null = null;
        let dOutNext: tf.Tensor2D | null = null;
        for (let t = steps.length - 1; t >= 0; t--) {
          const { B, M } = steps[t];
          const g = stepBackward(fwds[t], tf.tensor2d(dSs[t], [B, M]), dOutNext, t > 0);
          out[t] = [g.dColW, g.dx];
          dwx = dwx ? tf.add(dwx, g.dwx) : g.dwx;
          dwh = dwh ? tf.add(dwh, g.dwh) : g.dwh;
          db = db ? tf.add(db, g.db) : g.db;
          dOutNext = t > 0 ? carryBackTensor(g.dh!, steps[t], steps[t - 1].B) : null;
        }
        return { steps: out, dwx: dwx!, dwh: dwh!, db: db! } as unknown as tf.TensorContainer;
      }) as unknown as typeof res;
    } catch (e) {
      // a failed read or loss: free the window's tensors, keep the carried state as it was
      const s = new Set<tf.Tensor>();
      for (const f of fwds) for (const t of collect(f)) if (t !== first) s.add(t);
      for (const t of s) if (!t.isDisposed) t.dispose();
      throw e;
    }
    const last = fwds[fwds.length - 1].out;
    this.h = tf.keep(last);
    free(last);
    const all = [...res.steps.flat(), res.dwx, res.dwh, res.db];
    try {
      const vals = await readBack(all);
      const per: WindowGrads['steps'] = res.steps.map((_, t) => ({
        dColW: vals[2 * t],
        dx: vals[2 * t + 1],
      }));
      const n = 2 * res.steps.length;
      return { steps: per, dwx: vals[n], dwh: vals[n + 1], db: vals[n + 2] };
    } finally {
      tf.dispose(all);
    }
  }

  dispose(): void {
    this.h?.dispose();
    this.h = null;
  }
}

/**
 * dL/do of the previous step's rows from dL/dh of the state step `i` started from:
 * reset rows get nothing, `keep` maps rows back (as a [prevRows, B] 0/1 matrix product).
 */
function carryBackTensor(dh: tf.Tensor2D, i: PreparedStep, prevRows: number): tf.Tensor2D {
  const { batch, B } = i;
  let g = dh;
  if (batch.resets) {
    const m = new Float32Array(B).fill(1);
    for (const r of batch.resets) m[r] = 0;
    g = tf.mul(g, tf.tensor2d(m, [B, 1]));
  }
  if (batch.keep) {
    const p = new Float32Array(prevRows * B);
    for (let r = 0; r < B; r++) p[batch.keep[r] * B + r] = 1;
    g = tf.matMul(tf.tensor2d(p, [prevRows, B]), g);
  }
  return g;
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
