import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { createWorkerApi } from '../../src/worker/api';

// A warm start reuses the backend decision cached from an earlier visit. TF.js starts
// initialising its own highest-priority backend on the first op (WASM's is asynchronous);
// while that is pending it refuses every op on any backend, even one set since. The
// engine must wait for it before it takes the cached backend.
describe('a warm start on a cached backend decision', () => {
  it('works while a WASM initialisation TF.js started is still pending', async () => {
    const first = createWorkerApi();
    const decided = await first.init({ force: 'cpu', hiddenSize: 8, numItems: 40 });
    expect(decided.backend).toBe('cpu');

    // as on a page: something touched TF.js before the engine's init (WASM init pending)
    const pending = tf.setBackend('wasm');
    const api = createWorkerApi();
    const status = await api.init({ cached: decided, hiddenSize: 8, numItems: 40 });
    expect(status.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    // and TF.js runs ops on it
    expect(Array.from(tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2))).dataSync())).toEqual([3]);
    await pending;
  }, 60_000);
});
