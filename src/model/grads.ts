import * as tf from '@tensorflow/tfjs-core';
import { gruBackward, gruForward, type StepGrads } from './gru';
import { type LossKind, lossAndGrad } from './loss';

/**
 * Forward and exact backward pass of one training step given the gathered rows:
 *
 *   h' = GRU(x ⊙ mIn, h);  o = h' ⊙ mH  (carried forward as the next state)
 *   S  = [o, 1] · Wcᵀ − logQ            Wc: [M, H+1] candidate item rows incl. bias
 *   L  = loss(S, Y)
 *
 * Returns the loss, o, and gradients for x (pre-dropout input rows), Wc and the GRU
 * weights. Checked against `tf.grad` in test/model/grads.test.ts.
 */
export interface StepInputs {
  x: tf.Tensor2D;
  h: tf.Tensor2D;
  wx: tf.Tensor2D;
  wh: tf.Tensor2D;
  b: tf.Tensor1D;
  colW: tf.Tensor2D;
  Y: tf.Tensor2D;
  logQ: tf.Tensor2D | null;
  maskIn: tf.Tensor2D | null;
  maskH: tf.Tensor2D | null;
  /** Accidental-hit mask [B, M] (0 / −1e9), see loss.ts. */
  hitMask?: tf.Tensor2D | null;
}

export interface StepLossOptions {
  loss: LossKind;
  bprReg: number;
  elu: boolean;
}

export interface StepOutputs extends StepGrads {
  loss: tf.Scalar;
  out: tf.Tensor2D;
  dColW: tf.Tensor2D;
}

export function stepForwardBackward(i: StepInputs, o: StepLossOptions): StepOutputs {
  const B = i.x.shape[0];
  const hs = i.h.shape[1];
  const x = i.maskIn ? (tf.mul(i.x, i.maskIn) as tf.Tensor2D) : i.x;
  const c = gruForward(x, i.h, i.wx, i.wh, i.b);
  const out = i.maskH ? (tf.mul(c.hNew, i.maskH) as tf.Tensor2D) : c.hNew;
  const outAug = tf.concat([out, tf.ones([B, 1])], 1) as tf.Tensor2D;
  let S = tf.matMul(outAug, tf.transpose(i.colW)) as tf.Tensor2D;
  if (i.logQ) S = tf.sub(S, i.logQ);
  const { loss, dS } = lossAndGrad(
    o.loss,
    S,
    i.Y,
    { bprReg: o.bprReg, elu: o.elu },
    i.hitMask ?? null,
  );
  const dColW = tf.matMul(tf.transpose(dS), outAug) as tf.Tensor2D;
  let dOut = tf.slice(tf.matMul(dS, i.colW), [0, 0], [B, hs]) as tf.Tensor2D;
  if (i.maskH) dOut = tf.mul(dOut, i.maskH);
  const g = gruBackward(c, dOut, i.wx, i.wh);
  const dx = i.maskIn ? (tf.mul(g.dx, i.maskIn) as tf.Tensor2D) : g.dx;
  return { loss, out, dColW, dx, dwx: g.dwx, dwh: g.dwh, db: g.db };
}
