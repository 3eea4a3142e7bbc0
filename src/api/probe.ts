import { startWorker, type WorkerClientOptions } from '../runtime/worker-client';
import type { CapabilityReport, ProbeOptions } from '../worker/protocol';

export type { BackendName, BackendProbe, CapabilityReport, ProbeOptions } from '../worker/protocol';

/**
 * Reports which TF.js backends (webgpu, webgl, wasm, cpu) initialise in this browser and
 * pass a numerical self-check, with the WebGL renderer and WebGPU adapter, from inside a
 * short-lived worker (the page itself never loads TF.js).
 *
 * @example
 * const report = await LocalRec.probeBackends();
 * console.table(report.backends);
 */
export async function probeBackends(
  options: ProbeOptions & WorkerClientOptions & { timeoutMs?: number } = {},
): Promise<CapabilityReport> {
  const handle = await startWorker(options);
  try {
    const { backends, backendTimeoutMs } = options;
    return await handle.call(
      'probe',
      (api) => api.probe({ backends, backendTimeoutMs }),
      options.timeoutMs ?? 120_000,
    );
  } finally {
    handle.terminate();
  }
}
