import * as tf from '@tensorflow/tfjs-core';

/**
 * One GRU step and its exact gradient, written with explicit ops.
 *
 * GRU4Rec trains session-parallel with the hidden state carried across mini-batches
 * and detached: the previous state `h` is a constant of the step, so the gradient is
 * one step deep (no backpropagation through time) and small enough to write by hand.
 * That avoids `tf.grad` tape overhead and the gradient of `tf.gather`
 * (`UnsortedSegmentSum`, missing on WASM). Shapes, B rows of the batch:
 *
 *   x: [B, E] input vectors      h: [B, H] previous (detached) state
 *   a = x·Wx + b                 [B, 3H] (gate order r | z | n)
 *   [r, z] = σ(a_rz + h·Wh_rz)
 *   n = tanh(a_n + (r ⊙ h)·Wh_n)
 *   h' = (1 − z) ⊙ h + z ⊙ n     (Hidasi et al. 2016, eq. 2–5)
 *
 * On WASM a `matMul` with a transposed operand is ~10x slower than an explicit
 * `tf.transpose` followed by a plain `matMul`, hence the explicit transposes.
 */
export interface StepCache {
  x: tf.Tensor2D;
  h: tf.Tensor2D;
  r: tf.Tensor2D;
  z: tf.Tensor2D;
  n: tf.Tensor2D;
  rh: tf.Tensor2D;
  hNew: tf.Tensor2D;
}

export interface GruGrads {
  /** dL/dh of the step's input state (BPTT: `wantDh`), else null. */
  dh?: tf.Tensor2D | null;
  dx: tf.Tensor2D;
  dwx: tf.Tensor2D;
  dwh: tf.Tensor2D;
  db: tf.Tensor1D;
}

export function gruForward(
  x: tf.Tensor2D,
  h: tf.Tensor2D,
  wx: tf.Tensor2D,
  wh: tf.Tensor2D,
  b: tf.Tensor1D,
): StepCache {
  const hs = h.shape[1];
  const a = tf.add(tf.matMul(x, wx), b) as tf.Tensor2D;
  const whRz = tf.slice(wh, [0, 0], [hs, 2 * hs]);
  const whN = tf.slice(wh, [0, 2 * hs], [hs, hs]);
  const aRz = tf.slice(a, [0, 0], [-1, 2 * hs]);
  const aN = tf.slice(a, [0, 2 * hs], [-1, hs]);
  const rz = tf.sigmoid(tf.add(aRz, tf.matMul(h, whRz)));
  const r = tf.slice(rz, [0, 0], [-1, hs]) as tf.Tensor2D;
  const z = tf.slice(rz, [0, hs], [-1, hs]) as tf.Tensor2D;
  const rh = tf.mul(r, h) as tf.Tensor2D;
  const n = tf.tanh(tf.add(aN, tf.matMul(rh, whN))) as tf.Tensor2D;
  const hNew = tf.add(h, tf.mul(z, tf.sub(n, h))) as tf.Tensor2D;
  return { x, h, r, z, n, rh, hNew };
}

/**
 * Gradients of the step given dL/dh' (`dhNew`, [B, H]). With `wantDh` (BPTT) also dL/dh
 * of the input state: dh = dh'⊙(1 − z) + d(r⊙h)⊙r + dA_rz·Wh_rzᵀ.
 */
export function gruBackward(
  c: StepCache,
  dhNew: tf.Tensor2D,
  wx: tf.Tensor2D,
  wh: tf.Tensor2D,
  wantDh = false,
  /** A kept scalar 1 (a fresh one is an upload per call). */
  one: tf.Scalar = tf.scalar(1),
): GruGrads {
  const hs = c.h.shape[1];
  // h' = h + z(n − h)
  const dn = tf.mul(dhNew, c.z);
  const dz = tf.mul(dhNew, tf.sub(c.n, c.h));
  const daN = tf.mul(dn, tf.sub(one, tf.square(c.n))) as tf.Tensor2D;
  const daZ = tf.mul(dz, tf.mul(c.z, tf.sub(one, c.z)));
  const whNT = tf.transpose(tf.slice(wh, [0, 2 * hs], [hs, hs]));
  const drh = tf.matMul(daN, whNT);
  const daR = tf.mul(tf.mul(drh, c.h), tf.mul(c.r, tf.sub(one, c.r)));
  const daRz = tf.concat([daR, daZ], 1) as tf.Tensor2D;
  const da = tf.concat([daRz, daN], 1) as tf.Tensor2D;
  const dwx = tf.matMul(tf.transpose(c.x), da);
  const dwhRz = tf.matMul(tf.transpose(c.h), daRz);
  const dwhN = tf.matMul(tf.transpose(c.rh), daN);
  const dwh = tf.concat([dwhRz, dwhN], 1) as tf.Tensor2D;
  const dwxT = dwx as tf.Tensor2D;
  const db = tf.sum(da, 0) as tf.Tensor1D;
  const dx = tf.matMul(da, tf.transpose(wx)) as tf.Tensor2D;
  if (!wantDh) return { dx, dwx: dwxT, dwh, db };
  const whRzT = tf.transpose(tf.slice(wh, [0, 0], [hs, 2 * hs]));
  const dh = tf.add(
    tf.add(tf.mul(dhNew, tf.sub(one, c.z)), tf.mul(drh, c.r)),
    tf.matMul(daRz, whRzT),
  ) as tf.Tensor2D;
  return { dh, dx, dwx: dwxT, dwh, db };
}

/**
 * Forward and exact backward pass of one training step given the gathered rows, in two
 * halves around the loss (computed in JS, see train/losses/):
 *
 *   forward   h' = GRU(x ⊙ mIn, h);  o = h' ⊙ mH
 *             S  = [o, 1] · Wcᵀ                    Wc: [M, H+1] candidate rows incl. bias
 *             carried to the next step (`out`): o with `maskHOnState` (GRU4Rec), else h'
 *   backward  given dS = dL/dS: gradients for x (pre-dropout input rows), Wc and the
 *             GRU weights. Checked against `tf.grad` in test/train/kernels.test.ts.
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
  /** `maskH` on the carried state too (GRU4Rec; default) or on the scores' input only. */
  maskHOnState?: boolean;
}

export interface ForwardState {
  inputs: ForwardInputs;
  cache: StepCache;
  /** The state carried to the next step. */
  out: tf.Tensor2D;
  /** The scores' input [h' ⊙ mH, 1]. */
  outAug: tf.Tensor2D;
  S: tf.Tensor2D;
}

export interface BackwardOutputs extends GruGrads {
  dColW: tf.Tensor2D;
}

export function stepForward(i: ForwardInputs): ForwardState {
  const B = i.x.shape[0];
  const x = i.maskIn ? (tf.mul(i.x, i.maskIn) as tf.Tensor2D) : i.x;
  const cache = gruForward(x, i.h, i.wx, i.wh, i.b);
  const o = i.maskH ? (tf.mul(cache.hNew, i.maskH) as tf.Tensor2D) : cache.hNew;
  const out = (i.maskHOnState ?? true) ? o : cache.hNew;
  // (fill: a kernel on the backend; tf.ones would upload a JS array each step)
  const outAug = tf.concat([o, tf.fill([B, 1], 1)], 1) as tf.Tensor2D;
  const S = tf.matMul(outAug, tf.transpose(i.colW)) as tf.Tensor2D;
  return { inputs: i, cache, out, outAug, S };
}

/**
 * The backward pass of one step. Backpropagation through time adds `dOutNext`, dL/d`out`
 * of the carried state reaching it through the next step (null for the last step of a
 * window and in one-step training), and with `wantDh` returns `dh`, dL/dh of the state
 * the step started from. dL/dh' = (dL/do + dOutNext) ⊙ mH when the carried state is o,
 * dL/do ⊙ mH + dOutNext when it is h'.
 */
export function stepBackward(
  f: ForwardState,
  dS: tf.Tensor2D,
  dOutNext: tf.Tensor2D | null = null,
  wantDh = false,
  /** A kept scalar 1, see gruBackward. */
  one?: tf.Scalar,
): BackwardOutputs {
  const i = f.inputs;
  const B = i.x.shape[0];
  const hs = i.h.shape[1];
  const dColW = tf.matMul(tf.transpose(dS), f.outAug) as tf.Tensor2D;
  let dOut = tf.slice(tf.matMul(dS, i.colW), [0, 0], [B, hs]) as tf.Tensor2D;
  const onState = i.maskHOnState ?? true;
  if (dOutNext && onState) dOut = tf.add(dOut, dOutNext);
  if (i.maskH) dOut = tf.mul(dOut, i.maskH);
  if (dOutNext && !onState) dOut = tf.add(dOut, dOutNext);
  const g = gruBackward(f.cache, dOut, i.wx, i.wh, wantDh, one);
  const dx = i.maskIn ? (tf.mul(g.dx, i.maskIn) as tf.Tensor2D) : g.dx;
  return { dh: g.dh ?? null, dColW, dx, dwx: g.dwx, dwh: g.dwh, db: g.db };
}
