// Reference implementations of the losses, used only by tests: the TF.js forms written
// with plain differentiable ops (for gradient checks with tf.grad) and the plain-JS
// cross-entropy over transposed scores (the yardstick of the backend softmax).
import * as tf from '@tensorflow/tfjs-core';
import { transposeJs } from '../../src/model/matmul';

export function crossEntropyForward(
  S: tf.Tensor2D,
  Y: tf.Tensor2D,
  mask: tf.Tensor2D | null = null,
): tf.Scalar {
  if (mask) S = tf.add(S, mask);
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(S), Y), 1))) as tf.Scalar;
}

export function bprMaxForward(
  S: tf.Tensor2D,
  Y: tf.Tensor2D,
  reg: number,
  elu: boolean,
  mask: tf.Tensor2D | null = null,
): tf.Scalar {
  const r = elu ? tf.elu(S) : S;
  const pos = tf.sum(tf.mul(r, Y), 1, true);
  const neg = tf.sub(r, tf.mul(Y, 1e9));
  const sN = tf.softmax(mask ? tf.add(neg, mask) : neg);
  const P = tf.sum(tf.mul(sN, tf.sigmoid(tf.sub(pos, r))), 1);
  const Q = tf.sum(tf.mul(sN, tf.square(r)), 1);
  return tf.mean(tf.add(tf.neg(tf.log(P)), tf.mul(Q, reg))) as tf.Scalar;
}

interface TransposedCEResult {
  lossSum: number;
  dST: Float32Array;
  dS: Float32Array;
}

/**
 * Cross-entropy over a transposed score matrix `ST` [M, B] (column b holds row b's
 * scores): the layout the hybrid step produces, because on WASM `colW · outAugᵀ` is
 * faster than `outAug · colWᵀ` (XNNPACK packs the right-hand operand on every call, and
 * here that is the small one). Same maths as the cross-entropy row form (src/train/losses/cross-entropy.ts);
 * every pass walks the array in memory order.
 *
 * `targets[b]` is the row of ST holding row b's target; `hits` lists accidental hits as
 * (b, j) pairs, masked out of the softmax. `ST` is overwritten and returned as dL/dSᵀ;
 * `dS` [B, M] receives the same gradient in row layout.
 */
export function crossEntropyT(
  ST: Float32Array,
  B: number,
  M: number,
  targets: Int32Array,
  logQ: Float32Array | null,
  hits: Int32Array | null,
  dS: Float32Array,
): TransposedCEResult {
  if (logQ) {
    for (let j = 0; j < M; j++) {
      const q = logQ[j];
      const o = j * B;
      for (let b = 0; b < B; b++) ST[o + b] -= q;
    }
  }
  if (hits) for (let k = 0; k < hits.length; k += 2) ST[hits[k + 1] * B + hits[k]] = -1e9;
  const mx = new Float64Array(B).fill(Number.NEGATIVE_INFINITY);
  for (let j = 0; j < M; j++) {
    const o = j * B;
    for (let b = 0; b < B; b++) if (ST[o + b] > mx[b]) mx[b] = ST[o + b];
  }
  let lossSum = 0;
  for (let b = 0; b < B; b++) lossSum += mx[b] - ST[targets[b] * B + b];
  const z = new Float64Array(B);
  for (let j = 0; j < M; j++) {
    const o = j * B;
    for (let b = 0; b < B; b++) {
      const v = Math.exp(ST[o + b] - mx[b]);
      ST[o + b] = v;
      z[b] += v;
    }
  }
  const inv = 1 / B;
  for (let b = 0; b < B; b++) {
    lossSum += Math.log(z[b]);
    z[b] = inv / z[b];
  }
  for (let j = 0; j < M; j++) {
    const o = j * B;
    for (let b = 0; b < B; b++) ST[o + b] *= z[b];
  }
  for (let b = 0; b < B; b++) ST[targets[b] * B + b] -= inv;
  transposeJs(ST, M, B, dS);
  return { lossSum, dST: ST, dS };
}
