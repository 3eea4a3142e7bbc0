// The capability probe's reasons for an absent backend, in Node with the browser globals
// stubbed: plain words, and no TF.js stack trace on the console for an expected absence.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { probeBackendsHere } from '../../src/worker/tf/probe';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  if (tf.findBackendFactory('webgl')) tf.removeBackend('webgl');
});

/** Makes `globalThis instanceof WorkerGlobalScope` true, as in a dedicated worker. */
function pretendWorker() {
  const scope = () => {};
  Object.defineProperty(scope, Symbol.hasInstance, { value: () => true });
  vi.stubGlobal('WorkerGlobalScope', scope);
}

describe('probeBackendsHere', () => {
  it('says WebGPU is not available in this browser where navigator.gpu is missing', async () => {
    vi.stubGlobal('navigator', { userAgent: 'test', hardwareConcurrency: 2 });
    const report = await probeBackendsHere({ backends: ['webgpu', 'cpu'] });
    expect(report.backends[0]).toMatchObject({
      name: 'webgpu',
      ok: false,
      error: 'WebGPU not available in this browser',
    });
    expect(report.backends[1]).toMatchObject({ name: 'cpu', ok: true });
  });

  it('says WebGL is not available in workers without starting TF.js WebGL (no console stack trace)', async () => {
    pretendWorker();
    // Firefox headless and WebKitGTK: OffscreenCanvas exists, but gives workers no WebGL2.
    vi.stubGlobal(
      'OffscreenCanvas',
      class {
        getContext() {
          return null;
        }
      },
    );
    // Stands in for TF.js's WebGL backend, which fails to initialise here and prints a
    // warning with a stack trace when asked to.
    const factory = vi.fn(() => {
      throw new Error('Cannot create a WebGL context');
    });
    tf.registerBackend('webgl', factory);
    const logged = [
      vi.spyOn(console, 'warn').mockImplementation(() => {}),
      vi.spyOn(console, 'log').mockImplementation(() => {}),
      vi.spyOn(console, 'error').mockImplementation(() => {}),
    ];
    const report = await probeBackendsHere({ backends: ['webgl', 'cpu'] });
    expect(report.backends[0]).toMatchObject({
      name: 'webgl',
      ok: false,
      error: 'WebGL not available in workers in this browser',
    });
    expect(report.backends[1]).toMatchObject({ name: 'cpu', ok: true });
    expect(factory).not.toHaveBeenCalled();
    for (const spy of logged) expect(spy).not.toHaveBeenCalled();
  });
});
