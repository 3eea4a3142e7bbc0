import * as tf from '@tensorflow/tfjs-core';

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
 * how results come back from WebGPU (see `readBack`).
 */
export type MatMuls = (jobs: MatMulJob[]) => Promise<Float32Array[]>;

/**
 * Values of float32 tensors (not disposed here). On WebGPU asynchronously: a
 * synchronous `dataSync()` there (tfjs-webgpu 4.22 reads through OffscreenCanvas copies)
 * loses the device once the page yields to its event loop ("A valid external Instance
 * reference no longer exists", then every `createBuffer` fails). Everywhere else
 * synchronously: on WASM and CPU it is a copy either way, and on WebGL an asynchronous
 * read waits for a fence that never signals once the context is lost (training hung),
 * where `dataSync()` throws and the runtime falls back to another backend.
 */
export async function readBack(tensors: readonly tf.Tensor[]): Promise<Float32Array[]> {
  if (tf.getBackend() === 'webgpu') {
    return (await Promise.all(tensors.map((t) => t.data()))) as Float32Array[];
  }
  return tensors.map((t) => t.dataSync() as Float32Array);
}

/**
 * Products on the active TF.js backend: upload, `matMul`, read back, in one scope.
 * Operands are plain (already transposed in JS where needed: on WASM a transposed
 * `matMul` operand is ~10x slower than a plain one). The same array given twice is
 * uploaded once.
 */
export const tfMatMuls: MatMuls = async (jobs) => {
  const outs = tf.tidy(() => {
    const up = new Map<Float32Array, tf.Tensor2D>();
    const t = (v: Float32Array, r: number, c: number) => {
      let x = up.get(v);
      if (!x) {
        x = tf.tensor2d(v, [r, c]);
        up.set(v, x);
      }
      return x;
    };
    return jobs.map((j) => tf.matMul(t(j.a, j.m, j.k), t(j.b, j.k, j.n)));
  });
  try {
    return await readBack(outs);
  } finally {
    tf.dispose(outs);
  }
};

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
