import * as tf from '@tensorflow/tfjs-core';
import { type GruConfig, inputSize } from '../../model/config';
import type { GruArrays } from '../../model/params';
import { readBack } from './backend-io';
import { type ForwardState, stepBackward, stepForward } from './device-ops';
import type { PreparedStep, StepGrads, StepKernel } from './kernel';

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

  async run(i: PreparedStep): Promise<StepGrads> {
    const { hs, es, weights: w } = this;
    const cw = hs + 1;
    const { B, M, batch } = i;
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

  dispose(): void {
    this.h?.dispose();
    this.h = null;
  }
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
