/**
 * Backend choice for Node tools (CLI eval/bench/pretrain, benchmarks). The only module
 * of src/model + src/train that registers a backend: the library's worker picks its own
 * (src/runtime). WASM (SIMD) is the fast one on CPUs; `LOCALREC_BACKEND=cpu` overrides.
 */
import * as tf from '@tensorflow/tfjs-core';

export async function ensureNodeBackend(
  name = process.env.LOCALREC_BACKEND ?? 'wasm',
): Promise<string> {
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  else if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
  if (tf.findBackend(name) === null || tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`TF.js backend ${name} failed to initialise`);
  }
  await tf.ready();
  return tf.getBackend();
}
