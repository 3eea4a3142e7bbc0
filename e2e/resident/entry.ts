// Bundled by e2e/resident.spec.ts into the test page: the resident kernel on a GPU
// backend (WebGL, WebGPU) against the hybrid kernel on the CPU backend, the same fixed
// run (test/train/resident-run.ts), and what the resident run asked of the backend.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { countBackendWork } from '../../src/train/kernels/counters';
import { kernelLosses, maxRelDiff } from '../../test/train/resident-run';

export interface ResidentCheck {
  requested: string;
  /** The backend the resident run used; null when `requested` did not initialise. */
  backend: string | null;
  error?: string;
  /** WebGPU: the adapter's description (a software adapter says so). */
  adapter?: string;
  kernel?: string;
  reference?: number[];
  resident?: number[];
  maxRelDiff?: number;
  steps?: number;
  perStep?: { dispatches: number; programs: number | null; uploads: number };
  readsPer100Steps?: number;
  seconds?: number;
}

async function check(requested: string, steps: number, every: number): Promise<ResidentCheck> {
  const out: ResidentCheck = { requested, backend: null };
  if (requested === 'webgpu') {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    const adapter = (await gpu?.requestAdapter()) as {
      info?: Record<string, string>;
      isFallbackAdapter?: boolean;
    } | null;
    // (GPUAdapterInfo's fields are prototype getters: JSON.stringify would give {})
    const info = adapter?.info;
    out.adapter = adapter
      ? `${['vendor', 'architecture', 'device', 'description'].map((k) => info?.[k] || '-').join(' / ')}` +
        `${adapter.isFallbackAdapter ? ' (fallback adapter)' : ''}`
      : 'no adapter';
  }
  // the reference: the hybrid kernel (what WASM and CPU train with) on the CPU backend
  await tf.setBackend('cpu');
  const ref = await kernelLosses({ kernel: 'hybrid', steps, every });
  out.reference = ref.losses;
  let ok = false;
  try {
    ok = await tf.setBackend(requested);
  } catch (e) {
    out.error = e instanceof Error ? e.message : String(e);
  }
  if (!ok || tf.getBackend() !== requested) {
    out.error ??= `${requested} did not initialise`;
    return out;
  }
  out.backend = tf.getBackend();
  const work = countBackendWork();
  const t0 = performance.now();
  let res: { losses: number[]; kernel: string };
  try {
    res = await kernelLosses({ kernel: 'resident', steps, every });
  } finally {
    work.stop();
  }
  out.seconds = (performance.now() - t0) / 1000;
  out.kernel = res.kernel;
  out.resident = res.losses;
  out.maxRelDiff = maxRelDiff(ref.losses, res.losses);
  out.steps = steps;
  const c = work.counts;
  const per = (n: number) => Number((n / steps).toFixed(2));
  out.perStep = {
    dispatches: per(c.dispatches),
    programs: c.programs === null ? null : per(c.programs),
    uploads: per(c.uploads),
  };
  out.readsPer100Steps = Number(((c.reads / steps) * 100).toFixed(2));
  return out;
}

(window as unknown as Record<string, unknown>).residentCheck = check;
(window as unknown as Record<string, unknown>).residentReady = true;
