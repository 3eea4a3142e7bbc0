// Bundled by e2e/resident.spec.ts into the test page: the resident kernel on a GPU
// backend (WebGL, WebGPU) against the hybrid kernel on the CPU backend, the same fixed
// run (test/train/resident-run.ts), and what the resident run asked of the backend; and
// the device and resident kernels' BPTT windows against the hybrid kernel's.
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

/** Switches TF.js to `requested`; on failure says why in `out.error` and returns false. */
async function switchTo(
  requested: string,
  out: { backend: string | null; error?: string },
): Promise<boolean> {
  let ok = false;
  try {
    ok = await tf.setBackend(requested);
  } catch (e) {
    out.error = e instanceof Error ? e.message : String(e);
  }
  if (!ok || tf.getBackend() !== requested) {
    out.error ??= `${requested} did not initialise`;
    return false;
  }
  out.backend = tf.getBackend();
  return true;
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
  if (!(await switchTo(requested, out))) return out;
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

export interface BpttCheck {
  requested: string;
  backend: string | null;
  error?: string;
  /** The hybrid kernel on the CPU backend with the window, and without (bptt 1). */
  reference?: number[];
  oneStep?: number[];
  /** Largest relative difference between `reference` and `oneStep`: what the window changes. */
  windowEffect?: number;
  /** Each GPU kernel's losses on `backend` with the window, and their largest relative difference. */
  kernels?: Record<string, { kernel: string; losses: number[]; maxRelDiff: number }>;
}

/**
 * Truncated BPTT on a GPU backend: the device and resident kernels with windows of 4
 * steps (rows dropped and restarted inside windows, hidden dropout on the scores' input
 * only, a learning-rate schedule) against the hybrid kernel on the CPU backend, whose
 * window gradients test/train/bptt.test.ts checks against tf.grads of the unrolled GRU.
 */
async function bpttCheck(requested: string, steps: number, every: number): Promise<BpttCheck> {
  const options = {
    bptt: 4,
    dropoutHidden: 0.3,
    dropoutHiddenOn: 'scores' as const,
    momentum: 0.3,
    lrEnd: 0.2,
  };
  const out: BpttCheck = { requested, backend: null };
  await tf.setBackend('cpu');
  out.reference = (await kernelLosses({ kernel: 'hybrid', steps, every, options })).losses;
  out.oneStep = (
    await kernelLosses({ kernel: 'hybrid', steps, every, options: { ...options, bptt: 1 } })
  ).losses;
  out.windowEffect = maxRelDiff(out.reference, out.oneStep);
  if (!(await switchTo(requested, out))) return out;
  out.kernels = {};
  for (const kernel of ['device', 'resident'] as const) {
    const r = await kernelLosses({ kernel, steps, every, options });
    out.kernels[kernel] = {
      kernel: r.kernel,
      losses: r.losses,
      maxRelDiff: maxRelDiff(out.reference, r.losses),
    };
  }
  return out;
}

(window as unknown as Record<string, unknown>).residentCheck = check;
(window as unknown as Record<string, unknown>).bpttCheck = bpttCheck;
(window as unknown as Record<string, unknown>).residentReady = true;
