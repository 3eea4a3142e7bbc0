import * as tf from '@tensorflow/tfjs-core';

/**
 * Losses over a score matrix S [B, M] (rows: the batch's examples; columns: the
 * candidate items scored for the batch) with a one-hot target matrix Y [B, M].
 * `mask` (optional, [B, M], 0 or −1e9) removes "accidental hits": columns that hold
 * the row's own target item again (another row's identical target, or a sampled
 * negative equal to it) would otherwise push the target down as a negative.
 * Each returns the mean loss over rows (a scalar tensor, kept on the device: the
 * trainer reads it back only every few steps) and dL/dS.
 *
 * - `cross-entropy`: softmax over the columns. With sampled columns (the batch's
 *   targets + shared negatives) it is the sampled softmax of Hidasi & Czapp (2023);
 *   the caller subtracts log q(item) from S first for the logQ correction. With all
 *   items as columns it is the full softmax.
 * - `bpr-max` (Hidasi & Karatzoglou 2018): L = −log Σ_j s_j σ(r_i − r_j)
 *   + λ Σ_j s_j r_j², with s = softmax over the negatives' scores only (every column
 *   but the row's target). Gradient, P = Σ_j s_j σ_j, σ_j = σ(r_i − r_j),
 *   Q = Σ_j s_j r_j²:
 *     ∂L/∂r_i = −(1/P) Σ_j s_j σ_j (1 − σ_j)
 *     ∂L/∂r_j = s_j (1 − σ_j² / P) + λ s_j (2 r_j + r_j² − Q)
 *   With `elu`, r = ELU(S) (the paper's final activation for BPR-max) and the chain
 *   rule multiplies by ELU'(S) = min(r + 1, 1).
 */
export type LossKind = 'cross-entropy' | 'bpr-max';

export interface LossResult {
  loss: tf.Scalar;
  dS: tf.Tensor2D;
}

export function crossEntropy(
  S: tf.Tensor2D,
  Y: tf.Tensor2D,
  mask: tf.Tensor2D | null = null,
): LossResult {
  const rows = S.shape[0];
  if (mask) S = tf.add(S, mask);
  const m = tf.max(S, 1, true);
  const shifted = tf.sub(S, m);
  const e = tf.exp(shifted);
  const sum = tf.sum(e, 1, true);
  const P = tf.div(e, sum);
  // loss_b = log Σ exp(S_b − m_b) − (S_b,target − m_b)
  const loss = tf.mean(tf.sub(tf.log(sum), tf.sum(tf.mul(shifted, Y), 1, true))) as tf.Scalar;
  const dS = tf.div(tf.sub(P, Y), rows) as tf.Tensor2D;
  return { loss, dS };
}

export function bprMax(
  S: tf.Tensor2D,
  Y: tf.Tensor2D,
  opts: { reg: number; elu: boolean },
  mask: tf.Tensor2D | null = null,
): LossResult {
  const rows = S.shape[0];
  const r = opts.elu ? (tf.elu(S) as tf.Tensor2D) : S;
  const pos = tf.sum(tf.mul(r, Y), 1, true);
  // softmax over negatives: push the target column to −1e9 so exp() gives 0 there
  let neg = tf.sub(r, tf.mul(Y, 1e9));
  if (mask) neg = tf.add(neg, mask);
  const sN = tf.softmax(neg) as tf.Tensor2D;
  const sig = tf.sigmoid(tf.sub(pos, r));
  const sSig = tf.mul(sN, sig);
  const P = tf.add(tf.sum(sSig, 1, true), 1e-24);
  const r2 = tf.square(r);
  const sR2 = tf.mul(sN, r2);
  const Q = tf.sum(sR2, 1, true);
  const lossRows = tf.add(tf.neg(tf.log(P)), tf.mul(Q, opts.reg));
  const loss = tf.mean(lossRows) as tf.Scalar;
  const one = tf.scalar(1);
  const dNeg = tf.mul(sN, tf.sub(one, tf.div(tf.square(sig), P)));
  const dReg = tf.mul(tf.mul(sN, tf.sub(tf.add(tf.mul(r, 2), r2), Q)), opts.reg);
  const dPos = tf.neg(tf.div(tf.sum(tf.mul(sSig, tf.sub(one, sig)), 1, true), P));
  let dr = tf.add(tf.add(dNeg, dReg), tf.mul(Y, dPos));
  if (opts.elu) dr = tf.mul(dr, tf.minimum(tf.add(r, 1), 1));
  return { loss, dS: tf.div(dr, rows) as tf.Tensor2D };
}

export function lossAndGrad(
  kind: LossKind,
  S: tf.Tensor2D,
  Y: tf.Tensor2D,
  opts: { bprReg: number; elu: boolean },
  mask: tf.Tensor2D | null = null,
): LossResult {
  return kind === 'bpr-max'
    ? bprMax(S, Y, { reg: opts.bprReg, elu: opts.elu }, mask)
    : crossEntropy(S, Y, mask);
}

/** Reference forms written with plain differentiable ops, for gradient checks. */
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
