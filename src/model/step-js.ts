import type { MatMuls } from './matmul';
import { transposeJs } from './matmul';

/**
 * One training step's forward and exact backward pass with the elementwise work in JS
 * and only the matrix products on the backend (`mm`, see matmul.ts): on the WASM
 * backend each elementwise op over a [B, H] tensor costs ~0.1 ms of dispatch and memory
 * traffic, ~50x a JS loop over the same numbers, while the products are 2-4x faster
 * there than in JS. Same maths as gru.ts / grads.ts (the op-by-op reference, used in
 * the gradient test):
 *
 *   x' = x ⊙ mIn;  a = x'·Wx + b;  [r, z] = σ(a_rz + h·Wh_rz);  n = tanh(a_n + (r ⊙ h)·Wh_n)
 *   h' = h + z ⊙ (n − h);  o = h' ⊙ mH (carried state);  Sᵀ = Wc·[o, 1]ᵀ
 *
 * Scores come out transposed, Sᵀ [M, B]: on WASM, XNNPACK packs the right-hand operand
 * of every product, so the candidate rows Wc [M, H+1] go on the left as they are and
 * only the small [H+1, B] state is transposed (measured 0.95 ms vs 1.45 ms plus a
 * 0.33 ms JS transpose of Wc at B 64, M 576). Likewise dWc = dSᵀ·[o, 1].
 *
 * Six round trips to the backend per step (three forward, three backward), each a few
 * uploads, one to four `matMul`s and their reads.
 */
export interface JsForward {
  B: number;
  E: number;
  H: number;
  M: number;
  x: Float32Array;
  h: Float32Array;
  r: Float32Array;
  z: Float32Array;
  n: Float32Array;
  rh: Float32Array;
  out: Float32Array;
  outAug: Float32Array;
  colW: Float32Array;
  wx: Float32Array;
  whN: Float32Array;
  maskIn: Float32Array | null;
  maskH: Float32Array | null;
  /** Scores transposed, [M, B]. */
  ST: Float32Array;
}

export interface JsGrads {
  dColW: Float32Array;
  dx: Float32Array;
  dwx: Float32Array;
  dwh: Float32Array;
  db: Float32Array;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** a ⊙ m as a new array. */
function mulInto(a: Float32Array, m: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * m[i];
  return out;
}

/** Columns [from, from + w) of a row-major [rows, cols] array. */
function cols(a: Float32Array, rows: number, cols: number, from: number, w: number): Float32Array {
  const out = new Float32Array(rows * w);
  for (let i = 0; i < rows; i++) out.set(a.subarray(i * cols + from, i * cols + from + w), i * w);
  return out;
}

export function forwardJs(
  mm: MatMuls,
  p: {
    x: Float32Array;
    h: Float32Array;
    wx: Float32Array;
    wh: Float32Array;
    b: Float32Array;
    colW: Float32Array;
    maskIn: Float32Array | null;
    maskH: Float32Array | null;
  },
  B: number,
  E: number,
  H: number,
  M: number,
): JsForward {
  const { h, b, maskIn, maskH } = p;
  const x = maskIn ? mulInto(p.x, maskIn) : p.x;
  const H2 = 2 * H;
  const H3 = 3 * H;
  const whRz = cols(p.wh, H, H3, 0, H2);
  const whN = cols(p.wh, H, H3, H2, H);
  const [a, hrz] = mm([
    { a: x, m: B, k: E, b: p.wx, n: H3 },
    { a: h, m: B, k: H, b: whRz, n: H2 },
  ]);
  const r = new Float32Array(B * H);
  const z = new Float32Array(B * H);
  const rh = new Float32Array(B * H);
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < H; j++) {
      const k = i * H + j;
      const rv = sigmoid(a[i * H3 + j] + b[j] + hrz[i * H2 + j]);
      r[k] = rv;
      z[k] = sigmoid(a[i * H3 + H + j] + b[H + j] + hrz[i * H2 + H + j]);
      rh[k] = rv * h[k];
    }
  }
  const [c] = mm([{ a: rh, m: B, k: H, b: whN, n: H }]);
  const n = new Float32Array(B * H);
  const out = new Float32Array(B * H);
  const C = H + 1;
  const outAug = new Float32Array(B * C);
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < H; j++) {
      const k = i * H + j;
      const nv = Math.tanh(a[i * H3 + H2 + j] + b[H2 + j] + c[k]);
      n[k] = nv;
      const hv = h[k] + z[k] * (nv - h[k]);
      const ov = maskH ? hv * maskH[k] : hv;
      out[k] = ov;
      outAug[i * C + j] = ov;
    }
    outAug[i * C + H] = 1;
  }
  const [ST] = mm([{ a: p.colW, m: M, k: C, b: transposeJs(outAug, B, C), n: B }]);
  return {
    B,
    E,
    H,
    M,
    x,
    h,
    r,
    z,
    n,
    rh,
    out,
    outAug,
    colW: p.colW,
    wx: p.wx,
    whN,
    maskIn,
    maskH,
    ST,
  };
}

/** `dS` [B, M] and `dST` [M, B]: the loss gradient in both layouts. */
export function backwardJs(
  mm: MatMuls,
  f: JsForward,
  dS: Float32Array,
  dST: Float32Array,
): JsGrads {
  const { B, E, H, M, h, r, z, n, maskH, maskIn } = f;
  const C = H + 1;
  const H2 = 2 * H;
  const H3 = 3 * H;
  const [dOutAug, dColW] = mm([
    { a: dS, m: B, k: M, b: f.colW, n: C },
    { a: dST, m: M, k: B, b: f.outAug, n: C },
  ]);
  const dA = new Float32Array(B * H3);
  const daN = new Float32Array(B * H);
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < H; j++) {
      const k = i * H + j;
      let dh = dOutAug[i * C + j];
      if (maskH) dh *= maskH[k];
      const zv = z[k];
      const nv = n[k];
      const dan = dh * zv * (1 - nv * nv);
      daN[k] = dan;
      dA[i * H3 + H2 + j] = dan;
      dA[i * H3 + H + j] = dh * (nv - h[k]) * zv * (1 - zv);
    }
  }
  const [drh] = mm([{ a: daN, m: B, k: H, b: transposeJs(f.whN, H, H), n: H }]);
  const daRz = new Float32Array(B * H2);
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < H; j++) {
      const k = i * H + j;
      const rv = r[k];
      const dar = drh[k] * h[k] * rv * (1 - rv);
      dA[i * H3 + j] = dar;
      daRz[i * H2 + j] = dar;
      daRz[i * H2 + H + j] = dA[i * H3 + H + j];
    }
  }
  const db = new Float32Array(H3);
  for (let i = 0; i < B; i++) for (let j = 0; j < H3; j++) db[j] += dA[i * H3 + j];
  const [dwx, dwhRz, dwhN, dxm] = mm([
    { a: transposeJs(f.x, B, E), m: E, k: B, b: dA, n: H3 },
    { a: transposeJs(h, B, H), m: H, k: B, b: daRz, n: H2 },
    { a: transposeJs(f.rh, B, H), m: H, k: B, b: daN, n: H },
    { a: dA, m: B, k: H3, b: transposeJs(f.wx, E, H3), n: E },
  ]);
  const dwh = new Float32Array(H * H3);
  for (let i = 0; i < H; i++) {
    dwh.set(dwhRz.subarray(i * H2, i * H2 + H2), i * H3);
    dwh.set(dwhN.subarray(i * H, i * H + H), i * H3 + H2);
  }
  const dx = maskIn ? mulInto(dxm, maskIn) : dxm;
  return { dColW, dx, dwx, dwh, db };
}
