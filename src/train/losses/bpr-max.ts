import { hitMask, type Loss, transposedViaRows } from './loss';

/**
 * BPR-max (Hidasi & Karatzoglou 2018): L = −log Σ_j s_j σ(r_i − r_j) + λ Σ_j s_j r_j²,
 * with s = softmax over the negatives' scores only (every column but the row's target).
 * Gradient, P = Σ_j s_j σ_j, σ_j = σ(r_i − r_j), Q = Σ_j s_j r_j²:
 *   ∂L/∂r_i = −(1/P) Σ_j s_j σ_j (1 − σ_j)
 *   ∂L/∂r_j = s_j (1 − σ_j² / P) + λ s_j (2 r_j + r_j² − Q)
 * With `elu`, r = ELU(S) (the paper's final activation for BPR-max) and the chain rule
 * multiplies by ELU'(S) = min(r + 1, 1). No logQ correction. Uniform scores give log 2.
 *
 * The transposed form transposes around the row form (the hybrid kernel's default loss
 * is cross-entropy; BPR-max there pays two JS transposes per step).
 */
const rows: Loss['rows'] = (S, B, M, targets, p, _logQ, hitPairs) => {
  const hits = hitMask(hitPairs, B, M);
  const dS = new Float32Array(B * M);
  const inv = 1 / B;
  let lossSum = 0;
  const e = new Float64Array(M);
  const lam = p.bprReg;
  const r = new Float64Array(M);
  for (let b = 0; b < B; b++) {
    const row = b * M;
    const t = targets[b];
    for (let j = 0; j < M; j++) {
      const s = S[row + j];
      r[j] = p.elu && s < 0 ? Math.expm1(s) : s;
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
      if (p.elu && S[row + j] < 0) d *= r[j] + 1;
      dS[row + j] = d * inv;
    }
  }
  return { lossSum, dS };
};

export const bprMax: Loss = {
  name: 'bpr-max',
  logQ: false,
  chance: () => Math.LN2,
  rows,
  transposed: transposedViaRows(rows),
};
