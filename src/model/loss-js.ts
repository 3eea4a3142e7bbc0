import * as tf from '@tensorflow/tfjs-core';
import type { LossKind } from './loss';
import { readBack, transposeJs } from './matmul';

/**
 * The step's loss and dL/dS in plain JS over a score matrix S [B, M] read back from
 * the device. Same maths as loss.ts (which documents the formulas and is the
 * reference in the gradient test); here because on the WASM backend each elementwise
 * op over a [B, M] tensor costs ~0.1-0.4 ms of dispatch and memory traffic, and the
 * loss needs ~15 of them, while one JS pass over the same numbers takes a fraction.
 *
 * Column `target(b)` holds row b's target. `logQ` [M] is subtracted from the scores
 * (cross-entropy only); `hits` [B, M] (0 / −1e9) masks accidental hits.
 * Returns the loss summed over rows (not averaged) and dS = d(mean loss)/dS.
 */
export interface JsLossOptions {
  kind: LossKind;
  bprReg: number;
  elu: boolean;
}

export function lossJs(
  S: Float32Array,
  B: number,
  M: number,
  target: (b: number) => number,
  o: JsLossOptions,
  logQ: Float32Array | null,
  hits: Float32Array | null,
  dS: Float32Array = new Float32Array(B * M),
): { lossSum: number; dS: Float32Array } {
  const inv = 1 / B;
  let lossSum = 0;
  const e = new Float64Array(M);
  if (o.kind === 'cross-entropy') {
    for (let b = 0; b < B; b++) {
      const row = b * M;
      const t = target(b);
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
  }
  // BPR-max
  const lam = o.bprReg;
  const r = new Float64Array(M);
  for (let b = 0; b < B; b++) {
    const row = b * M;
    const t = target(b);
    for (let j = 0; j < M; j++) {
      const s = S[row + j];
      r[j] = o.elu && s < 0 ? Math.expm1(s) : s;
    }
    const rt = r[t];
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < M; j++) {
      if (j === t) continue;
      const v = r[j] + (hits ? hits[row + j] : 0);
      e[j] = v;
      if (v > m) m = v;
    }
    let z = 0;
    for (let j = 0; j < M; j++) {
      if (j === t) continue;
      const v = Math.exp(e[j] - m);
      e[j] = v;
      z += v;
    }
    let P = 0;
    let Q = 0;
    let dPos = 0;
    for (let j = 0; j < M; j++) {
      if (j === t) continue;
      const s = e[j] / z;
      e[j] = s;
      const sig = 1 / (1 + Math.exp(-(rt - r[j])));
      P += s * sig;
      Q += s * r[j] * r[j];
      dPos += s * sig * (1 - sig);
    }
    P += 1e-24;
    lossSum += -Math.log(P) + lam * Q;
    for (let j = 0; j < M; j++) {
      let d: number;
      if (j === t) d = -dPos / P;
      else {
        const s = e[j];
        const sig = 1 / (1 + Math.exp(-(rt - r[j])));
        d = s * (1 - (sig * sig) / P) + lam * s * (2 * r[j] + r[j] * r[j] - Q);
      }
      if (o.elu && S[row + j] < 0) d *= r[j] + 1;
      dS[row + j] = d * inv;
    }
  }
  return { lossSum, dS };
}

interface TransposedCEResult {
  lossSum: number;
  dST: Float32Array;
  dS: Float32Array;
}

/**
 * Cross-entropy over transposed scores; see `crossEntropyT`. The backend version is
 * asynchronous (it reads the softmax back, see `readBack`), the JS reference is not.
 */
export type TransposedCrossEntropy = (
  ST: Float32Array,
  B: number,
  M: number,
  targets: Int32Array,
  logQ: Float32Array | null,
  hits: Int32Array | null,
  dS: Float32Array,
) => TransposedCEResult | Promise<TransposedCEResult>;

/**
 * Cross-entropy over a transposed score matrix `ST` [M, B] (column b holds row b's
 * scores): the layout the hybrid step produces, because on WASM `colW · outAugᵀ` is
 * faster than `outAug · colWᵀ` (XNNPACK packs the right-hand operand on every call, and
 * here that is the small one). Same maths as the cross-entropy branch of `lossJs`;
 * every pass walks the array in memory order.
 *
 * `targets[b]` is the row of ST holding row b's target; `hits` lists accidental hits as
 * (b, j) pairs, masked out of the softmax. `ST` is overwritten and returned as dL/dSᵀ;
 * `dS` [B, M] receives the same gradient in row layout.
 */
export const crossEntropyT: TransposedCrossEntropy = (ST, B, M, targets, logQ, hits, dS) => {
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
};

/**
 * `crossEntropyT` with the softmax on the TF.js backend: Sᵀ is uploaded, transposed,
 * shifted by logQ, masked, and `tf.softmax`ed there (on WASM that is XNNPACK's SIMD
 * softmax, several times faster than `Math.exp` over the same [B, M] numbers in JS);
 * only the probabilities come back. The loss of a row is −log p(target); a row whose
 * target probability underflows float32 gets its exact loss from a JS log-sum-exp
 * (so divergence still shows as a huge loss). Same loss and gradient as
 * `crossEntropyT` (tested to 1e-6).
 */
export const crossEntropyTDevice: TransposedCrossEntropy = async (
  ST,
  B,
  M,
  targets,
  logQ,
  hits,
  dS,
) => {
  if (hits) for (let k = 0; k < hits.length; k += 2) ST[hits[k + 1] * B + hits[k]] = -1e9;
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
  return ceFromProbabilities(p, ST, B, M, targets, logQ, dS);
};

/** Loss and gradient of `crossEntropyTDevice` from the softmax `p` [B, M] (sync: the
 * loops stay out of the async function, see model/step-js.ts). */
function ceFromProbabilities(
  p: Float32Array,
  ST: Float32Array,
  B: number,
  M: number,
  targets: Int32Array,
  logQ: Float32Array | null,
  dS: Float32Array,
): TransposedCEResult {
  const inv = 1 / B;
  let lossSum = 0;
  for (let i = 0; i < p.length; i++) dS[i] = p[i] * inv;
  for (let b = 0; b < B; b++) {
    const t = targets[b];
    const i = b * M + t;
    if (p[i] > 1e-30) lossSum -= Math.log(p[i]);
    else {
      // the target's probability underflowed: this row's loss exactly, in JS (rare in
      // healthy training; a diverging run must show its huge loss, not −log 1e-30)
      const z = (j: number) => ST[j * B + b] - (logQ ? logQ[j] : 0);
      let mx = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < M; j++) mx = Math.max(mx, z(j));
      let sum = 0;
      for (let j = 0; j < M; j++) sum += Math.exp(z(j) - mx);
      lossSum += mx + Math.log(sum) - z(t);
    }
    dS[i] -= inv;
  }
  return { lossSum, dST: transposeJs(dS, B, M, ST), dS };
}
