import type { KernelName } from './kernel';

/**
 * The training-step kernel for a TF.js backend: the one place that knows which kernel
 * runs where. Training (`trainGru` with `kernel: 'auto'`, the default), the backend trial
 * (worker/tf/trial.ts) and the benchmarks all ask here, so the trial times the step that
 * training then runs.
 *
 * The hybrid kernel reads back to JS six times per step: cheap on WASM/CPU (a memcpy),
 * a pipeline stall on a GPU. GPU backends get the resident kernel: the whole step,
 * optimiser and loss included, on the device, with a read every 100 steps. (Settings it
 * does not train, e.g. BPR-max, fall back to the device kernel: see StepRunner.)
 */
export function kernelFor(backend: string): KernelName {
  return backend === 'webgl' || backend === 'webgpu' ? 'resident' : 'hybrid';
}
