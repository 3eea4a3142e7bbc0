// Moving numbers between JS and the TF.js backend: the reads every kernel and the
// backend loss make, and the hybrid kernel's matrix products.
import * as tf from '@tensorflow/tfjs-core';
import type { MatMuls } from '../../model/matmul';

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
