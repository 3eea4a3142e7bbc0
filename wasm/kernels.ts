// AssemblyScript source of the training step's WebAssembly SIMD kernels (float32,
// row-major, 128-bit SIMD). Compiled by scripts/build-wasm.mjs into two variants:
// RELAXED=1 uses relaxed-SIMD fused multiply-add in the matrix product (one rounding
// per multiply-add where the CPU has FMA), RELAXED=0 a separate multiply and add, for
// runtimes without relaxed SIMD. Loaded by src/model/simd.ts. The memory above
// `heapBase()` is the caller's: it places operands there and reads results back.

/** c + a·b, fused where the variant and the CPU allow. */
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  return RELAXED ? f32x4.relaxed_madd(a, b, c) : f32x4.add(f32x4.mul(a, b), c);
}

export function heapBase(): usize {
  return __heap_base;
}

/**
 * out [m, n] = a [m, k] · b [k, n]. Blocks of 4 rows × 8 columns held in eight
 * registers while k runs (a's four values broadcast, two vectors of b's row p), then a
 * 4-column block and single columns for the rest of n, single rows for the rest of m.
 */
export function gemm(a: usize, b: usize, out: usize, m: i32, k: i32, n: i32): void {
  const rs = <usize>n << 2;
  const ks = <usize>k << 2;
  const m4 = m & ~3;
  let i = 0;
  for (; i < m4; i += 4) {
    const a0 = a + <usize>i * ks;
    const a1 = a0 + ks;
    const a2 = a1 + ks;
    const a3 = a2 + ks;
    const o0 = out + <usize>i * rs;
    let j = 0;
    for (; j + 8 <= n; j += 8) {
      let c00 = f32x4.splat(0);
      let c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0);
      let c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0);
      let c21 = f32x4.splat(0);
      let c30 = f32x4.splat(0);
      let c31 = f32x4.splat(0);
      let bp = b + (<usize>j << 2);
      for (let p = 0; p < k; p++) {
        const b0 = v128.load(bp);
        const b1 = v128.load(bp, 16);
        const o = <usize>p << 2;
        let s = v128.load32_splat(a0 + o);
        c00 = madd(s, b0, c00);
        c01 = madd(s, b1, c01);
        s = v128.load32_splat(a1 + o);
        c10 = madd(s, b0, c10);
        c11 = madd(s, b1, c11);
        s = v128.load32_splat(a2 + o);
        c20 = madd(s, b0, c20);
        c21 = madd(s, b1, c21);
        s = v128.load32_splat(a3 + o);
        c30 = madd(s, b0, c30);
        c31 = madd(s, b1, c31);
        bp += rs;
      }
      const oj = o0 + (<usize>j << 2);
      v128.store(oj, c00);
      v128.store(oj, c01, 16);
      v128.store(oj + rs, c10);
      v128.store(oj + rs, c11, 16);
      v128.store(oj + 2 * rs, c20);
      v128.store(oj + 2 * rs, c21, 16);
      v128.store(oj + 3 * rs, c30);
      v128.store(oj + 3 * rs, c31, 16);
    }
    for (; j + 4 <= n; j += 4) {
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let c2 = f32x4.splat(0);
      let c3 = f32x4.splat(0);
      let bp = b + (<usize>j << 2);
      for (let p = 0; p < k; p++) {
        const b0 = v128.load(bp);
        const o = <usize>p << 2;
        c0 = madd(v128.load32_splat(a0 + o), b0, c0);
        c1 = madd(v128.load32_splat(a1 + o), b0, c1);
        c2 = madd(v128.load32_splat(a2 + o), b0, c2);
        c3 = madd(v128.load32_splat(a3 + o), b0, c3);
        bp += rs;
      }
      const oj = o0 + (<usize>j << 2);
      v128.store(oj, c0);
      v128.store(oj + rs, c1);
      v128.store(oj + 2 * rs, c2);
      v128.store(oj + 3 * rs, c3);
    }
    for (; j < n; j++) {
      for (let r = 0; r < 4; r++) columnDot(a0 + <usize>r * ks, b, o0 + <usize>r * rs, j, k, n);
    }
  }
  for (; i < m; i++) {
    const ai = a + <usize>i * ks;
    const oi = out + <usize>i * rs;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      let c0 = f32x4.splat(0);
      let bp = b + (<usize>j << 2);
      for (let p = 0; p < k; p++) {
        c0 = madd(v128.load32_splat(ai + (<usize>p << 2)), v128.load(bp), c0);
        bp += rs;
      }
      v128.store(oi + (<usize>j << 2), c0);
    }
    for (; j < n; j++) columnDot(ai, b, oi, j, k, n);
  }
}

/** out[j] = Σp a[p]·b[p, j] for one row a of the left operand and one column j. */
@inline
function columnDot(a: usize, b: usize, out: usize, j: i32, k: i32, n: i32): void {
  let s: f32 = 0;
  let bp = b + (<usize>j << 2);
  const rs = <usize>n << 2;
  for (let p = 0; p < k; p++) {
    s += load<f32>(a + (<usize>p << 2)) * load<f32>(bp);
    bp += rs;
  }
  store<f32>(out + (<usize>j << 2), s);
}

/**
 * e^x in four float32 lanes: x = n·ln2 + r with n = round(x·log2 e) and |r| ≤ ln2/2
 * (ln2 split in two parts so that r is exact to float32), e^r from its Taylor series to
 * r^7 (remainder ≤ 0.347^8/8! ≈ 5e-9), 2^n built in the exponent bits. x is clamped to
 * at most 88, where 2^n stays a normal float32; below −87 the result is 0.
 */
@inline
function exp4(v: v128): v128 {
  const x = f32x4.max(f32x4.min(v, f32x4.splat(88)), f32x4.splat(-87));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.4426950408889634)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693145751953125)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(1.428606765330187e-6)));
  let p = f32x4.splat(1.0 / 5040);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 720));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 120));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 24));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 6));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  // below −87 the result is 0 (a masked score, −1e9, must add nothing to a softmax)
  return v128.and(f32x4.mul(p, e), f32x4.ge(v, f32x4.splat(-87)));
}

/**
 * A gate's activation over a [rows, cols] block: out[r, i] = f(a[r, i] + c[r, i] +
 * bias[r]), f = σ (`tanh` 0) or tanh (`tanh` 1: 2σ(2v) − 1).
 */
export function gate(a: usize, c: usize, bias: usize, out: usize, rows: i32, cols: i32, tanh: i32): void {
  const one = f32x4.splat(1);
  const scale = f32x4.splat(tanh ? -2 : -1);
  const mul = f32x4.splat(tanh ? 2 : 1);
  const sub = f32x4.splat(tanh ? 1 : 0);
  const c4 = cols & ~3;
  let o: usize = 0;
  for (let r = 0; r < rows; r++) {
    const br = v128.load32_splat(bias + (<usize>r << 2));
    for (let i = 0; i < c4; i += 4) {
      const v = f32x4.add(f32x4.add(v128.load(a + o), v128.load(c + o)), br);
      const s = f32x4.div(one, f32x4.add(one, exp4(f32x4.mul(v, scale))));
      v128.store(out + o, f32x4.sub(f32x4.mul(s, mul), sub));
      o += 16;
    }
    for (let i = c4; i < cols; i++) {
      const v = f32x4.add(f32x4.add(v128.load32_splat(a + o), v128.load32_splat(c + o)), br);
      const s = f32x4.div(one, f32x4.add(one, exp4(f32x4.mul(v, scale))));
      store<f32>(out + o, f32x4.extract_lane(f32x4.sub(f32x4.mul(s, mul), sub), 0));
      o += 4;
    }
  }
}

/**
 * Softmax down each column of s [m, cols] (column b is one row's scores, transposed),
 * less logQ[j] from row j first when `logQ` is not 0: out [m, cols] = the
 * probabilities, columns four at a time (max, then e^(v − max) and its sum, then the
 * scaling).
 */
export function softmaxCols(s: usize, logQ: usize, out: usize, m: i32, cols: i32): void {
  const rs = <usize>cols << 2;
  for (let b = 0; b < cols; b += 4) {
    // the last block of a width that is not a multiple of 4 starts at cols − 4 (it
    // recomputes a few columns: each column's result depends on that column alone)
    const b0 = b + 4 <= cols ? b : cols - 4;
    if (b0 < 0) {
      softmaxNarrow(s, logQ, out, m, cols);
      return;
    }
    const c = <usize>b0 << 2;
    let mx = f32x4.splat(-Infinity);
    for (let j = 0; j < m; j++) {
      let v = v128.load(s + <usize>j * rs + c);
      if (logQ) v = f32x4.sub(v, v128.load32_splat(logQ + (<usize>j << 2)));
      mx = f32x4.max(mx, v);
    }
    let sum = f32x4.splat(0);
    for (let j = 0; j < m; j++) {
      let v = v128.load(s + <usize>j * rs + c);
      if (logQ) v = f32x4.sub(v, v128.load32_splat(logQ + (<usize>j << 2)));
      const e = exp4(f32x4.sub(v, mx));
      sum = f32x4.add(sum, e);
      v128.store(out + <usize>j * rs + c, e);
    }
    const k = f32x4.div(f32x4.splat(1), sum);
    for (let j = 0; j < m; j++) {
      const at = out + <usize>j * rs + c;
      v128.store(at, f32x4.mul(v128.load(at), k));
    }
  }
}

/** softmaxCols for fewer than four columns: one column at a time in lane 0. */
function softmaxNarrow(s: usize, logQ: usize, out: usize, m: i32, cols: i32): void {
  const rs = <usize>cols << 2;
  for (let b = 0; b < cols; b++) {
    const c = <usize>b << 2;
    let mx: f32 = -Infinity;
    for (let j = 0; j < m; j++) {
      let v = load<f32>(s + <usize>j * rs + c);
      if (logQ) v -= load<f32>(logQ + (<usize>j << 2));
      mx = max(mx, v);
    }
    let sum: f32 = 0;
    for (let j = 0; j < m; j++) {
      let v = load<f32>(s + <usize>j * rs + c);
      if (logQ) v -= load<f32>(logQ + (<usize>j << 2));
      const e = f32x4.extract_lane(exp4(f32x4.splat(v - mx)), 0);
      sum += e;
      store<f32>(out + <usize>j * rs + c, e);
    }
    for (let j = 0; j < m; j++) {
      const at = out + <usize>j * rs + c;
      store<f32>(at, load<f32>(at) / sum);
    }
  }
}

/**
 * Adagrad with momentum over n elements, in place (GRU4Rec's optimiser):
 *   s1 += g²;  u = lr·g / √(s1 + ε);  s2 = μ·s2 + u;  w −= s2
 * and without momentum (`s2` 0) w −= u.
 */
export function adagrad(w: usize, s1: usize, s2: usize, g: usize, n: i32, lr: f32, mom: f32, eps: f32): void {
  const vlr = f32x4.splat(lr);
  const vmom = f32x4.splat(mom);
  const veps = f32x4.splat(eps);
  const n4 = n & ~3;
  let o: usize = 0;
  const end4 = <usize>n4 << 2;
  for (; o < end4; o += 16) {
    const gi = v128.load(g + o);
    const a = f32x4.add(v128.load(s1 + o), f32x4.mul(gi, gi));
    v128.store(s1 + o, a);
    let u = f32x4.div(f32x4.mul(vlr, gi), f32x4.sqrt(f32x4.add(a, veps)));
    if (s2) {
      u = f32x4.add(f32x4.mul(vmom, v128.load(s2 + o)), u);
      v128.store(s2 + o, u);
    }
    v128.store(w + o, f32x4.sub(v128.load(w + o), u));
  }
  const end = <usize>n << 2;
  for (; o < end; o += 4) {
    const gi = load<f32>(g + o);
    const a = load<f32>(s1 + o) + gi * gi;
    store<f32>(s1 + o, a);
    let u = (lr * gi) / sqrt<f32>(a + eps);
    if (s2) {
      u = mom * load<f32>(s2 + o) + u;
      store<f32>(s2 + o, u);
    }
    store<f32>(w + o, load<f32>(w + o) - u);
  }
}

/** `adagrad` on rows ids[0..rows) of [·, width] matrices, gradient row u for row ids[u]. */
export function adagradRows(
  w: usize,
  s1: usize,
  s2: usize,
  g: usize,
  ids: usize,
  rows: i32,
  width: i32,
  lr: f32,
  mom: f32,
  eps: f32,
): void {
  const rb = <usize>width << 2;
  for (let u = 0; u < rows; u++) {
    const r = <usize>load<i32>(ids + (<usize>u << 2)) * rb;
    adagrad(w + r, s1 + r, s2 ? s2 + r : 0, g + <usize>u * rb, width, lr, mom, eps);
  }
}

/**
 * An inverted-dropout mask of n float32: draw k (k = 1..n) is mulberry32 at state
 * `state` + k·0x6d2b79f5 (mod 2³², the generator's own state sequence, so four draws
 * run side by side in the lanes and the numbers are the JS generator's, bit for bit);
 * entry k is 0 where the draw, as an unsigned integer, is below `cut`, else `keep`.
 */
export function dropoutMask(out: usize, n: i32, state: u32, cut: u32, keep: f32): void {
  const C: u32 = 0x6d2b79f5;
  let s = i32x4(<i32>(state + C), <i32>(state + 2 * C), <i32>(state + 3 * C), <i32>(state + 4 * C));
  const step = i32x4.splat(<i32>(4 * C));
  const flip = i32x4.splat(0x80000000);
  // unsigned u < cut as a signed compare of both with the top bit flipped
  const vcut = v128.xor(i32x4.splat(<i32>cut), flip);
  const vkeep = f32x4.splat(keep);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    let t = i32x4.mul(v128.xor(s, i32x4.shr_u(s, 15)), v128.or(s, i32x4.splat(1)));
    t = v128.xor(t, i32x4.add(t, i32x4.mul(v128.xor(t, i32x4.shr_u(t, 7)), v128.or(t, i32x4.splat(61)))));
    const u = v128.xor(t, i32x4.shr_u(t, 14));
    const drop = i32x4.lt_s(v128.xor(u, flip), vcut);
    v128.store(out + (<usize>i << 2), v128.andnot(vkeep, drop));
    s = i32x4.add(s, step);
  }
  let ss: u32 = state + <u32>n4 * C;
  for (let i = n4; i < n; i++) {
    ss += C;
    let t: u32 = (ss ^ (ss >>> 15)) * (ss | 1);
    t ^= t + (t ^ (t >>> 7)) * (t | 61);
    const u = t ^ (t >>> 14);
    store<f32>(out + (<usize>i << 2), u < cut ? 0 : keep);
  }
}

/** out [n, take] = rows ids[0..n) of a [·, width] matrix, their first `take` columns. */
export function gatherRows(src: usize, ids: usize, n: i32, width: i32, take: i32, out: usize): void {
  const t4 = <usize>(take & ~3) << 2;
  const tb = <usize>take << 2;
  let d = out;
  for (let k = 0; k < n; k++) {
    const s = src + <usize>load<i32>(ids + (<usize>k << 2)) * (<usize>width << 2);
    let o: usize = 0;
    for (; o < t4; o += 16) v128.store(d + o, v128.load(s + o));
    for (; o < tb; o += 4) store<f32>(d + o, load<f32>(s + o));
    d += tb;
  }
}
