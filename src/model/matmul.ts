/** One product a [m, k] · b [k, n] of row-major arrays. */
export interface MatMulJob {
  a: Float32Array;
  m: number;
  k: number;
  b: Float32Array;
  n: number;
}

/**
 * Runs a batch of independent products; results in job order. Asynchronous because of
 * how results come back from WebGPU (see `readBack` in train/kernels/backend-io.ts).
 */
export type MatMuls = (jobs: MatMulJob[]) => Promise<Float32Array[]>;

/** Plain JS products (reference for tests, and a fallback without a backend). */
export const jsMatMuls: MatMuls = async (jobs) =>
  jobs.map(({ a, m, k, b, n }) => {
    const out = new Float32Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let p = 0; p < k; p++) {
        const v = a[i * k + p];
        if (v === 0) continue;
        const bo = p * n;
        const oo = i * n;
        for (let j = 0; j < n; j++) out[oo + j] += v * b[bo + j];
      }
    }
    return out;
  });

/**
 * Transpose of a row-major [r, c] array, in 32 × 32 tiles so that both the reads and
 * the strided writes stay in cache (a plain double loop is several times slower on the
 * [B, M] score gradients).
 */
export function transposeJs(
  a: Float32Array,
  r: number,
  c: number,
  out: Float32Array = new Float32Array(r * c),
): Float32Array {
  const T = 32;
  for (let i0 = 0; i0 < r; i0 += T) {
    const i1 = Math.min(i0 + T, r);
    for (let j0 = 0; j0 < c; j0 += T) {
      const j1 = Math.min(j0 + T, c);
      for (let i = i0; i < i1; i++) {
        const o = i * c;
        for (let j = j0; j < j1; j++) out[j * r + i] = a[o + j];
      }
    }
  }
  return out;
}
