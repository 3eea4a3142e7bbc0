import * as tf from '@tensorflow/tfjs-core';
import { type Buffers, freshBuffers } from '../../model/buffers';
import { transposeJs } from '../../model/matmul';
import { SimdKernels } from '../../model/simd';
import { readBack } from '../kernels/backend-io';
import { hitMask, type Loss, type TransposedLossResult } from './loss';

/**
 * Cross-entropy: softmax over the columns, L = −log p(target). With sampled columns
 * (the batch's targets + shared negatives) it is the sampled softmax of Hidasi & Czapp
 * (2023), with log q(item) subtracted from the scores first (the logQ correction); with
 * every item as a column it is the full softmax. dL/dS = (softmax − onehot) / B.
 * Uniform scores give log M.
 */

/**
 * Row form, in plain JS over scores read back from the device: on the WASM backend
 * each elementwise op over a [B, M] tensor costs ~0.1-0.4 ms of dispatch and memory
 * traffic, and the loss needs ~15 of them, while one JS pass takes a fraction.
 */
const rows: Loss['rows'] = (S, B, M, targets, _p, logQ, hitPairs) => {
  const hits = hitMask(hitPairs, B, M);
  const dS = new Float32Array(B * M);
  const inv = 1 / B;
  let lossSum = 0;
  const e = new Float64Array(M);
  for (let b = 0; b < B; b++) {
    const row = b * M;
    const t = targets[b];
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < M; j++) {
      let s = S[row + j];
      if (logQ) s -= logQ[j];
      if (hits) s += hits[row + j];
      e[j] = s;
      if (s > m) m = s;
    }
    let z = 0;
    for (let j = 0; j < M; j++) {
      const v = Math.exp(e[j] - m);
      z += v;
      dS[row + j] = v;
    }
    lossSum += Math.log(z) + m - e[t];
    const k = inv / z;
    for (let j = 0; j < M; j++) dS[row + j] *= k;
    dS[row + t] -= inv;
  }
  return { lossSum, dS };
};

/**
 * Transposed form (the hybrid kernel's Sᵀ [M, B]: on WASM `colW · outAugᵀ` is faster
 * than `outAug · colWᵀ`, see model/step-js.ts), with the softmax on the TF.js backend:
 * Sᵀ is uploaded, transposed, shifted by logQ, masked, and `tf.softmax`ed there (on
 * WASM that is XNNPACK's SIMD softmax, several times faster than `Math.exp` over the
 * same numbers in JS); only the probabilities come back. The loss of a row is
 * −log p(target); a row whose target probability underflows float32 gets its exact loss
 * from a JS log-sum-exp (so divergence still shows as a huge loss). Same loss and
 * gradient as the row form (tested to 1e-6).
 */
const transposed: Loss['transposed'] = async (
  ST,
  B,
  M,
  targets,
  _p,
  logQ,
  hits,
  buf = freshBuffers,
) => {
  if (hits) for (let k = 0; k < hits.length; k += 2) ST[hits[k + 1] * B + hits[k]] = -1e9;
  const simd = SimdKernels.get();
  if (simd) {
    const pT = simd.softmaxCols(ST, logQ, M, B, buf);
    return fromProbabilitiesT(pT, ST, B, M, targets, logQ, buf);
  }
  const P = tf.tidy(() => {
    let z = tf.transpose(tf.tensor2d(ST, [M, B]));
    if (logQ) z = tf.sub(z, tf.tensor2d(logQ, [1, M]));
    return tf.softmax(z);
  });
  let p: Float32Array;
  try {
    [p] = await readBack([P]);
  } finally {
    P.dispose();
  }
  return fromProbabilities(p, ST, B, M, targets, logQ);
};

/** −log p of row b's target, exactly from the scores when p underflowed float32. */
function targetLoss(
  p: number,
  ST: Float32Array,
  b: number,
  B: number,
  M: number,
  t: number,
  logQ: Float32Array | null,
): number {
  if (p > 1e-30) return -Math.log(p);
  // the target's probability underflowed: this row's loss exactly, in JS (rare in
  // healthy training; a diverging run must show its huge loss, not −log 1e-30)
  const z = (j: number) => ST[j * B + b] - (logQ ? logQ[j] : 0);
  let mx = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < M; j++) mx = Math.max(mx, z(j));
  let sum = 0;
  for (let j = 0; j < M; j++) sum += Math.exp(z(j) - mx);
  return mx + Math.log(sum) - z(t);
}

/**
 * Loss and gradient from the transposed softmax `pT` [M, B] (the WebAssembly SIMD
 * path: model/simd.ts computes it down the columns of Sᵀ, so no transpose on the way in).
 */
function fromProbabilitiesT(
  pT: Float32Array,
  ST: Float32Array,
  B: number,
  M: number,
  targets: Int32Array,
  logQ: Float32Array | null,
  buf: Buffers,
): TransposedLossResult {
  const inv = 1 / B;
  let lossSum = 0;
  for (let b = 0; b < B; b++)
    lossSum += targetLoss(pT[targets[b] * B + b], ST, b, B, M, targets[b], logQ);
  for (let i = 0; i < pT.length; i++) pT[i] *= inv;
  for (let b = 0; b < B; b++) pT[targets[b] * B + b] -= inv;
  return { lossSum, dST: pT, dS: transposeJs(pT, M, B, buf.f32(M * B, false)) };
}

/** Loss and gradient from the softmax `p` [B, M] (sync: the loops stay out of the async
 * function, see model/step-js.ts). */
function fromProbabilities(
  p: Float32Array,
  ST: Float32Array,
  B: number,
  M: number,
  targets: Int32Array,
  logQ: Float32Array | null,
): TransposedLossResult {
  const dS = new Float32Array(B * M);
  const inv = 1 / B;
  let lossSum = 0;
  for (let i = 0; i < p.length; i++) dS[i] = p[i] * inv;
  for (let b = 0; b < B; b++) {
    const t = targets[b];
    const i = b * M + t;
    lossSum += targetLoss(p[i], ST, b, B, M, t, logQ);
    dS[i] -= inv;
  }
  return { lossSum, dST: transposeJs(dS, B, M, ST), dS };
}

export const crossEntropy: Loss = {
  name: 'cross-entropy',
  logQ: true,
  chance: (columns) => Math.log(Math.max(columns, 2)),
  rows,
  transposed,
};
