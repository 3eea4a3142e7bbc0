import * as tf from '@tensorflow/tfjs-core';
import { gruBackward, gruForward, type StepCache, type StepGrads } from './gru';

/**
 * Forward and exact backward pass of one training step given the gathered rows, in two
 * halves around the loss (computed in JS, see loss-js.ts):
 *
 *   forward   h' = GRU(x ⊙ mIn, h);  o = h' ⊙ mH  (carried forward as the next state)
 *             S  = [o, 1] · Wcᵀ                    Wc: [M, H+1] candidate rows incl. bias
 *   backward  given dS = dL/dS: gradients for x (pre-dropout input rows), Wc and the
 *             GRU weights. Checked against `tf.grad` in test/model/grads.test.ts.
 */
export interface ForwardInputs {
  x: tf.Tensor2D;
  h: tf.Tensor2D;
  wx: tf.Tensor2D;
  wh: tf.Tensor2D;
  b: tf.Tensor1D;
  colW: tf.Tensor2D;
  maskIn: tf.Tensor2D | null;
  maskH: tf.Tensor2D | null;
}

export interface ForwardState {
  inputs: ForwardInputs;
  cache: StepCache;
  out: tf.Tensor2D;
  outAug: tf.Tensor2D;
  S: tf.Tensor2D;
}

export interface BackwardOutputs extends StepGrads {
  dColW: tf.Tensor2D;
}

export function stepForward(i: ForwardInputs): ForwardState {
  const B = i.x.shape[0];
  const x = i.maskIn ? (tf.mul(i.x, i.maskIn) as tf.Tensor2D) : i.x;
  const cache = gruForward(x, i.h, i.wx, i.wh, i.b);
  const out = i.maskH ? (tf.mul(cache.hNew, i.maskH) as tf.Tensor2D) : cache.hNew;
  const outAug = tf.concat([out, tf.ones([B, 1])], 1) as tf.Tensor2D;
  const S = tf.matMul(outAug, tf.transpose(i.colW)) as tf.Tensor2D;
  return { inputs: i, cache, out, outAug, S };
}

export function stepBackward(f: ForwardState, dS: tf.Tensor2D): BackwardOutputs {
  const i = f.inputs;
  const B = i.x.shape[0];
  const hs = i.h.shape[1];
  const dColW = tf.matMul(tf.transpose(dS), f.outAug) as tf.Tensor2D;
  let dOut = tf.slice(tf.matMul(dS, i.colW), [0, 0], [B, hs]) as tf.Tensor2D;
  if (i.maskH) dOut = tf.mul(dOut, i.maskH);
  const g = gruBackward(f.cache, dOut, i.wx, i.wh);
  const dx = i.maskIn ? (tf.mul(g.dx, i.maskIn) as tf.Tensor2D) : g.dx;
  return { dColW, dx, dwx: g.dwx, dwh: g.dwh, db: g.db };
}
