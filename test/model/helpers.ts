import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { PopulationStats } from '../../src/model/population';
import { float16Bits, float16Value } from '../../src/model/serialize';

/** Switch to a backend for a test file (wasm is the fast one in Node). */
export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  await tf.setBackend(name);
  await tf.ready();
}

/** Max |a - b| over two arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** `pop` as a model file gives it back: list weights rounded to float16, the rest as is. */
export function halfRounded(pop: PopulationStats): PopulationStats {
  const round = (w: Float32Array) => w.map((x) => float16Value(float16Bits(x)));
  return {
    ...pop,
    sr: { ...pop.sr, weights: round(pop.sr.weights) },
    knn: { ...pop.knn, weights: round(pop.knn.weights) },
  };
}
