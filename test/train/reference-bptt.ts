// Reference for the BPTT gradient checks, used only by tests: the GRU unrolled over a
// window of steps with plain differentiable TF.js ops, written apart from the kernels
// (src/train/kernels/device-ops.ts, src/model/step-js.ts), so `tf.grads` of it is an
// independent yardstick for their hand-written gradients through time.
import * as tf from '@tensorflow/tfjs-core';
import type { BatchStep } from '../../src/train/batcher';

export interface RefStep {
  batch: BatchStep;
  /** Input rows [B, E], candidate rows [M, H+1], dropout masks or null. */
  x: Float32Array;
  colW: Float32Array;
  maskIn: Float32Array | null;
  maskH: Float32Array | null;
  /** `maskH` on the carried state too (GRU4Rec), or on the scores' input only. */
  maskHOnState: boolean;
  B: number;
  M: number;
  /** The step's loss is sum(S ⊙ G) + ½·sum(S²): dL/dS = G + S. */
  G: Float32Array;
}

/**
 * Sum of the window's losses. `h0` is the state the window starts from (a constant: the
 * window is truncated there). Weights in the model's layout: wx [E, 3H], wh [H, 3H].
 */
export function unrolledLoss(
  steps: readonly RefStep[],
  h0: tf.Tensor2D | null,
  H: number,
  E: number,
  wx: tf.Tensor2D,
  wh: tf.Tensor2D,
  b: tf.Tensor1D,
  xs: readonly tf.Tensor2D[],
  cols: readonly tf.Tensor2D[],
  /** Receives the state the window's last step carries to the next window. */
  onState?: (o: tf.Tensor2D) => void,
): tf.Scalar {
  let prev = h0;
  let total: tf.Scalar = tf.scalar(0);
  steps.forEach((s, t) => {
    const { B, M, batch } = s;
    let h: tf.Tensor2D = prev ?? tf.zeros([B, H]);
    if (prev && batch.keep) h = tf.gather(h, tf.tensor1d(batch.keep, 'int32'));
    if (prev && batch.resets) {
      const m = new Float32Array(B).fill(1);
      for (const r of batch.resets) m[r] = 0;
      h = tf.mul(h, tf.tensor2d(m, [B, 1]));
    }
    const x = s.maskIn ? tf.mul(xs[t], tf.tensor2d(s.maskIn, [B, E])) : xs[t];
    const a = tf.add(tf.matMul(x, wx), b);
    const wr = tf.slice(wh, [0, 0], [H, H]);
    const wz = tf.slice(wh, [0, H], [H, H]);
    const wn = tf.slice(wh, [0, 2 * H], [H, H]);
    const r = tf.sigmoid(tf.add(tf.slice(a, [0, 0], [B, H]), tf.matMul(h, wr)));
    const z = tf.sigmoid(tf.add(tf.slice(a, [0, H], [B, H]), tf.matMul(h, wz)));
    const n = tf.tanh(tf.add(tf.slice(a, [0, 2 * H], [B, H]), tf.matMul(tf.mul(r, h), wn)));
    const hNew = tf.add(tf.mul(tf.sub(1, z), h), tf.mul(z, n));
    const o = (s.maskH ? tf.mul(hNew, tf.tensor2d(s.maskH, [B, H])) : hNew) as tf.Tensor2D;
    const S = tf.matMul(tf.concat([o, tf.ones([B, 1])], 1), cols[t], false, true);
    const G = tf.tensor2d(s.G, [B, M]);
    total = tf.add(total, tf.add(tf.sum(tf.mul(S, G)), tf.mul(0.5, tf.sum(tf.square(S)))));
    prev = s.maskHOnState ? o : (hNew as tf.Tensor2D);
  });
  if (prev) onState?.(prev);
  return total;
}
