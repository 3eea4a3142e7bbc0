/**
 * Backend choice for Node tools (CLI eval/bench/pretrain, benchmarks). The only module
 * of src/model + src/train that registers a backend: the library's worker picks its own
 * (src/runtime). WASM (SIMD) is the fast one on CPUs; `LOCALREC_BACKEND=cpu` overrides.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Node 20's V8 (11.3) has WebAssembly relaxed SIMD behind a flag (on by default from
 * V8 11.4: Chromium 114, Node 22); the training step's fused multiply-add variant
 * (model/simd.ts) needs it. Set before the first module compiles; harmless later.
 */
async function enableRelaxedSimd(): Promise<void> {
  try {
    const v8 = await import('node:v8');
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // not Node, or flags locked: the plain SIMD variant runs
  }
}

export async function ensureNodeBackend(
  name = process.env.LOCALREC_BACKEND ?? 'wasm',
): Promise<string> {
  await enableRelaxedSimd();
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  else if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
  if (tf.findBackend(name) === null || tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`TF.js backend ${name} failed to initialise`);
  }
  await tf.ready();
  return tf.getBackend();
}
