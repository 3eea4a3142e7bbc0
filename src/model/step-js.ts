import { type Buffers, freshBuffers } from './buffers';
import { fastSigmoid, fastTanh } from './fastmath';
import type { MatMulJob, MatMuls } from './matmul';
import { transposeJs } from './matmul';
import type { SimdKernels } from './simd';

/**
 * One training step's forward and exact backward pass with the elementwise work in JS
 * (σ and tanh in the WebAssembly SIMD kernels when given: simd.ts) and the matrix
 * products through `mm` (matmul.ts: the SIMD kernels' `gemm`, or TF.js's `matMul`): on
 * the WASM backend each elementwise TF.js op over a [B, H] tensor costs ~0.1 ms of
 * dispatch and memory traffic, ~50x a JS loop over the same numbers. Same maths as train/kernels/device-ops.ts (the device kernel, used in
 * the gradient test):
 *
 *   x' = x ⊙ mIn;  a = x'·Wx + b;  [r, z] = σ(a_rz + h·Wh_rz);  n = tanh(a_n + (r ⊙ h)·Wh_n)
 *   h' = h + z ⊙ (n − h);  o = h' ⊙ mH;  Sᵀ = Wc·[o, 1]ᵀ
 *   carried state: o (`maskHOnState`, GRU4Rec) or h' (dropout on the scores' input only)
 *
 * Layout: chosen when the products ran on TF.js's WASM `matMul` (XNNPACK, which packs the
 * right-hand operand of every product afresh, ~14 ns per element here), so each product
 * puts the smallest operand on the right; it is the fallback path still, and the
 * library's own `gemm` (simd.ts) needs no packing and takes the same layout. Hence the GRU weights
 * come in transposed (W̃x = Wxᵀ [3H, E], W̃h = Whᵀ [3H, H]: the trainer keeps them so),
 * the gate pre-activations are computed transposed (aᵀ = W̃x·x'ᵀ, [3H, B]), the scores
 * too (Sᵀ = Wc·[o, 1]ᵀ: 0.95 ms vs 1.45 ms plus a 0.33 ms JS transpose of Wc at B 64,
 * M 576), and the weight gradients as dW̃x = dAᵀ·x', dW̃h = [dA_rzᵀ·h ; dA_nᵀ·(r⊙h)],
 * dWc = dSᵀ·[o, 1] (their right operands are the [B, ·] activations).
 *
 * Six batches of products per step (three forward, three backward): on TF.js each is a
 * round trip (uploads, one to four `matMul`s, their reads); on the SIMD kernels a copy in
 * and out of the module's memory.
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
  /** The state carried to the next step, [B, H]. */
  out: Float32Array;
  /** The scores' input [o, 1], [B, H+1]. */
  outAug: Float32Array;
  /** Transposed gate activations, [H, B] each (r, z, n) and r⊙h also as [B, H] (rh). */
  hT: Float32Array;
  colW: Float32Array;
  /** W̃x [3H, E], the candidate block of W̃h [H, H] and its r, z blocks [2H, H]. */
  wxT: Float32Array;
  whNT: Float32Array;
  whRzT: Float32Array;
  maskIn: Float32Array | null;
  maskH: Float32Array | null;
  /** Whether `maskH` also masks the carried state (`out`), or only the scores' input. */
  maskHOnState: boolean;
  /** Scores transposed, [M, B]. */
  ST: Float32Array;
}

export interface JsGrads {
  /** dL/dh [B, H], the carried state this step started from (BPTT only; else null). */
  dh: Float32Array | null;
  dColW: Float32Array;
  dx: Float32Array;
  /** Gradients of the transposed weights: dW̃x [3H, E], dW̃h [3H, H]. */
  dwxT: Float32Array;
  dwhT: Float32Array;
  db: Float32Array;
}

/** a ⊙ m as a new array. */
function mulInto(a: Float32Array, m: Float32Array, buf: Buffers): Float32Array {
  const out = buf.f32(a.length, false);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * m[i];
  return out;
}

// The loops of a step live in plain (non-async) functions: inside an async function,
// arrays that outlive an `await` are kept in its context object, and the hot loops over
// them ran ~5-7% slower on WASM (measured in alternating `bench train` runs).

/** r, z = σ(…) and r⊙h, transposed ([H, B]: row j is unit j over the batch); r⊙h also [B, H]. */
function gatesRz(
  aT: Float32Array,
  hrzT: Float32Array,
  hT: Float32Array,
  b: Float32Array,
  B: number,
  H: number,
  simd: SimdKernels | null,
  buf: Buffers,
) {
  const rhT = buf.f32(H * B, false);
  const rh = buf.f32(B * H, false);
  if (simd) {
    const rz = simd.gate(aT, hrzT, b, 2 * H, B, false, buf);
    const r = rz.subarray(0, H * B);
    const z = rz.subarray(H * B);
    for (let j = 0; j < H; j++) {
      const o = j * B;
      for (let i = 0; i < B; i++) {
        const v = r[o + i] * hT[o + i];
        rhT[o + i] = v;
        rh[i * H + j] = v;
      }
    }
    return { r, z, rhT, rh };
  }
  const r = buf.f32(H * B, false);
  const z = buf.f32(H * B, false);
  for (let j = 0; j < H; j++) {
    const bj = b[j];
    const bz = b[H + j];
    const o = j * B;
    const oz = (H + j) * B;
    for (let i = 0; i < B; i++) {
      const rv = fastSigmoid(aT[o + i] + bj + hrzT[o + i]);
      r[o + i] = rv;
      z[o + i] = fastSigmoid(aT[oz + i] + bz + hrzT[oz + i]);
      const v = rv * hT[o + i];
      rhT[o + i] = v;
      rh[i * H + j] = v;
    }
  }
  return { r, z, rhT, rh };
}

/**
 * n = tanh(…), h' = h + z⊙(n − h), o = h'⊙mH and [o, 1] (the scores' input) in both
 * layouts; `out`, the carried state, is o with `maskHOnState`, else h'.
 */
function candidateOut(
  aT: Float32Array,
  cT: Float32Array,
  hT: Float32Array,
  z: Float32Array,
  b: Float32Array,
  maskH: Float32Array | null,
  maskHOnState: boolean,
  B: number,
  H: number,
  simd: SimdKernels | null,
  buf: Buffers,
) {
  const H2 = 2 * H;
  // n = tanh(a_n + b_n + c) in SIMD lanes where the kernels run, else in the loop below
  const nSimd = simd ? simd.gate(aT.subarray(H2 * B), cT, b.subarray(H2), H, B, true, buf) : null;
  const n = nSimd ?? buf.f32(H * B, false);
  const out = buf.f32(B * H, false);
  const C = H + 1;
  const outAug = buf.f32(B * C, false);
  const outAugT = buf.f32(C * B, false);
  for (let j = 0; j < H; j++) {
    const bn = b[H2 + j];
    const o = j * B;
    const on = (H2 + j) * B;
    for (let i = 0; i < B; i++) {
      let nv: number;
      if (nSimd) nv = nSimd[o + i];
      else {
        // (fastTanh: ~20 ns a call here against ~37 for Math.tanh)
        nv = fastTanh(aT[on + i] + bn + cT[o + i]);
        n[o + i] = nv;
      }
      const hv = hT[o + i] + z[o + i] * (nv - hT[o + i]);
      const ov = maskH ? hv * maskH[i * H + j] : hv;
      // carried: o (GRU4Rec) or h' (dropout between layers, not on the recurrence)
      out[i * H + j] = maskHOnState ? ov : hv;
      outAug[i * C + j] = ov;
      outAugT[o + i] = ov;
    }
  }
  for (let i = 0; i < B; i++) {
    outAug[i * C + H] = 1;
    outAugT[H * B + i] = 1;
  }
  return { n, out, outAug, outAugT };
}

export async function forwardJs(
  mm: MatMuls,
  p: {
    /** Input rows [B, E] and carried state [B, H]. */
    x: Float32Array;
    h: Float32Array;
    /** W̃x = Wxᵀ [3H, E], W̃h = Whᵀ [3H, H]. */
    wxT: Float32Array;
    whT: Float32Array;
    b: Float32Array;
    colW: Float32Array;
    maskIn: Float32Array | null;
    maskH: Float32Array | null;
    /** `maskH` on the carried state too (GRU4Rec; default) or on the scores' input only. */
    maskHOnState?: boolean;
  },
  B: number,
  E: number,
  H: number,
  M: number,
  /** The WebAssembly SIMD gate activations, or null for the JS loops. */
  simd: SimdKernels | null = null,
  /** Where the step's arrays come from (valid until the caller's next step). */
  buf: Buffers = freshBuffers,
): Promise<JsForward> {
  const { h, b, maskIn, maskH } = p;
  const maskHOnState = p.maskHOnState ?? true;
  const x = maskIn ? mulInto(p.x, maskIn, buf) : p.x;
  const H2 = 2 * H;
  const hT = transposeJs(h, B, H, buf.f32(B * H, false));
  const [aT, hrzT] = await mm([
    { a: p.wxT, m: 3 * H, k: E, b: transposeJs(x, B, E, buf.f32(B * E, false)), n: B },
    { a: p.whT.subarray(0, H2 * H), m: H2, k: H, b: hT, n: B },
  ]);
  const { r, z, rhT, rh } = gatesRz(aT, hrzT, hT, b, B, H, simd, buf);
  const whNT = p.whT.subarray(H2 * H);
  const [cT] = await mm([{ a: whNT, m: H, k: H, b: rhT, n: B }]);
  const { n, out, outAug, outAugT } = candidateOut(
    aT,
    cT,
    hT,
    z,
    b,
    maskH,
    maskHOnState,
    B,
    H,
    simd,
    buf,
  );
  const C = H + 1;
  const [ST] = await mm([{ a: p.colW, m: M, k: C, b: outAugT, n: B }]);
  return {
    B,
    E,
    H,
    M,
    x,
    h,
    hT,
    r,
    z,
    n,
    rh,
    out,
    outAug,
    colW: p.colW,
    wxT: p.wxT,
    whNT,
    whRzT: p.whT.subarray(0, H2 * H),
    maskIn,
    maskH,
    maskHOnState,
    ST,
  };
}

/**
 * Gradients of the z and n pre-activations, [3H, B] and [B, 3H] (r rows filled by backR).
 * dL/dh' = (dL/do + dOutNext)⊙mH when the carried state is o (`maskHOnState`), else
 * dL/do⊙mH + dOutNext: the gradient through the next step's state skips the mask.
 */
function backZN(
  dOutAug: Float32Array,
  dOutNext: Float32Array | null,
  z: Float32Array,
  n: Float32Array,
  hT: Float32Array,
  maskH: Float32Array | null,
  maskHOnState: boolean,
  B: number,
  H: number,
  buf: Buffers,
) {
  const C = H + 1;
  const H2 = 2 * H;
  const H3 = 3 * H;
  const dAT = buf.f32(H3 * B, false);
  const dA = buf.f32(B * H3, false);
  const daN = buf.f32(B * H, false);
  // dL/dh' [B, H], kept for the gradient to h (BPTT only)
  const dhNew = dOutNext ? buf.f32(B * H, false) : null;
  for (let j = 0; j < H; j++) {
    const o = j * B;
    for (let i = 0; i < B; i++) {
      let dh = dOutAug[i * C + j];
      if (maskHOnState) {
        if (dOutNext) dh += dOutNext[i * H + j];
        if (maskH) dh *= maskH[i * H + j];
      } else {
        if (maskH) dh *= maskH[i * H + j];
        if (dOutNext) dh += dOutNext[i * H + j];
      }
      if (dhNew) dhNew[i * H + j] = dh;
      const zv = z[o + i];
      const nv = n[o + i];
      const dan = dh * zv * (1 - nv * nv);
      const daz = dh * (nv - hT[o + i]) * zv * (1 - zv);
      daN[i * H + j] = dan;
      dAT[(H2 + j) * B + i] = dan;
      dAT[(H + j) * B + i] = daz;
      dA[i * H3 + H2 + j] = dan;
      dA[i * H3 + H + j] = daz;
    }
  }
  return { dAT, dA, daN, dhNew };
}

/**
 * dL/dh of the state a step started from (BPTT): h enters h' = h + z⊙(n − h) directly,
 * n through r⊙h, and r, z through h·Wh_rz:
 *   dh = dh'⊙(1 − z) + d(r⊙h)⊙r + dA_rz·Wh_rzᵀ     (`dGates` = dA_rz·Wh_rzᵀ, [B, H])
 */
function backH(
  dhNew: Float32Array,
  drh: Float32Array,
  dGates: Float32Array,
  r: Float32Array,
  z: Float32Array,
  B: number,
  H: number,
  buf: Buffers,
): Float32Array {
  const dh = buf.f32(B * H, false);
  for (let j = 0; j < H; j++) {
    const o = j * B;
    for (let i = 0; i < B; i++) {
      const k = i * H + j;
      dh[k] = dhNew[k] * (1 - z[o + i]) + drh[k] * r[o + i] + dGates[k];
    }
  }
  return dh;
}

/** Fills the r rows of dAᵀ / dA from d(r⊙h); returns the bias gradient (row sums of dAᵀ). */
function backR(
  drh: Float32Array,
  r: Float32Array,
  hT: Float32Array,
  dAT: Float32Array,
  dA: Float32Array,
  B: number,
  H: number,
  buf: Buffers,
): Float32Array {
  const H3 = 3 * H;
  for (let j = 0; j < H; j++) {
    const o = j * B;
    for (let i = 0; i < B; i++) {
      const rv = r[o + i];
      const dar = drh[i * H + j] * hT[o + i] * rv * (1 - rv);
      dAT[o + i] = dar;
      dA[i * H3 + j] = dar;
    }
  }
  const db = buf.f32(H3, false);
  for (let g = 0; g < H3; g++) {
    let v = 0;
    const o = g * B;
    for (let i = 0; i < B; i++) v += dAT[o + i];
    db[g] = v;
  }
  return db;
}

/**
 * The backward pass of one step. Backpropagation through time adds `dOutNext`, dL/d`out`
 * of the carried state reaching it through the next step ([B, H]; null for
 * the last step of a window, and in one-step training), and gets back `dh`, dL/dh of the
 * state it started from (`wantDh`; the first step of a window does not need it).
 */
export async function backwardJs(
  mm: MatMuls,
  f: JsForward,
  dS: Float32Array,
  dST: Float32Array,
  dOutNext: Float32Array | null = null,
  wantDh = false,
  /** Where the step's arrays come from (valid until the caller's next step). */
  buf: Buffers = freshBuffers,
): Promise<JsGrads> {
  const { B, E, H, M, h, hT, r, z, n, maskH, maskHOnState, maskIn } = f;
  const C = H + 1;
  const H2 = 2 * H;
  const H3 = 3 * H;
  const [dOutAug, dColW] = await mm([
    { a: dS, m: B, k: M, b: f.colW, n: C },
    { a: dST, m: M, k: B, b: f.outAug, n: C },
  ]);
  const { dAT, dA, daN, dhNew } = backZN(
    dOutAug,
    dOutNext ?? (wantDh ? buf.f32(B * H) : null),
    z,
    n,
    hT,
    maskH,
    maskHOnState,
    B,
    H,
    buf,
  );
  // c = (r⊙h)·Wh_n and Wh_n = W̃h_nᵀ, so d(r⊙h) = da_n·W̃h_n
  const [drh] = await mm([{ a: daN, m: B, k: H, b: f.whNT, n: H }]);
  const db = backR(drh, r, hT, dAT, dA, B, H, buf);
  const jobs: MatMulJob[] = [
    { a: dAT, m: H3, k: B, b: f.x, n: E },
    { a: dAT.subarray(0, H2 * B), m: H2, k: B, b: h, n: H },
    { a: dAT.subarray(H2 * B), m: H, k: B, b: f.rh, n: H },
    { a: dA, m: B, k: H3, b: f.wxT, n: E },
  ];
  // BPTT: dA_rz·Wh_rzᵀ = dA_rz [B, 2H] · W̃h_rz [2H, H]
  if (wantDh) jobs.push({ a: rzColumns(dA, B, H, buf), m: B, k: H2, b: f.whRzT, n: H });
  const [dwxT, dwhRzT, dwhNT, dxm, dGates] = await mm(jobs);
  const dwhT = buf.f32(H3 * H, false);
  dwhT.set(dwhRzT);
  dwhT.set(dwhNT, H2 * H);
  const dx = maskIn ? mulInto(dxm, maskIn, buf) : dxm;
  const dh = wantDh && dhNew ? backH(dhNew, drh, dGates, r, z, B, H, buf) : null;
  return { dh, dColW, dx, dwxT, dwhT, db };
}

/** The r and z columns of dA [B, 3H] as a contiguous [B, 2H]. */
function rzColumns(dA: Float32Array, B: number, H: number, buf: Buffers): Float32Array {
  const out = buf.f32(B * 2 * H, false);
  for (let i = 0; i < B; i++) out.set(dA.subarray(i * 3 * H, i * 3 * H + 2 * H), i * 2 * H);
  return out;
}
