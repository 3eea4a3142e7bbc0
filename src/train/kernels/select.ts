import type { KernelName } from './kernel';

/**
 * The training-step kernel for a TF.js backend: the one place that knows which kernel
 * runs where. Training (`trainGru` with `kernel: 'auto'`, the default), the backend trial
 * (worker/tf/trial.ts) and the benchmarks all ask here, so the trial times the step that
 * training then runs.
 *
 * The hybrid kernel runs on the library's WebAssembly SIMD kernels (on TF.js's products
 * where those cannot run: six read-backs a step, a memcpy on WASM/CPU but a pipeline
 * stall on a GPU). GPU backends get the resident kernel: the whole step,
 * optimiser and loss included, on the device, with a read every 100 steps. (Settings it
 * does not train, e.g. BPR-max, fall back to the device kernel: see StepRunner.)
 */
export function kernelFor(backend: string): KernelName {
  if (backend !== 'webgl' && backend !== 'webgpu') return 'hybrid';
  // An emulated GPU (SwiftShader and the like) is the CPU running GPU programs: the
  // resident kernel's ~135 programs a step cost more there than the device kernel's ~65
  // and its read-backs save nothing (SwiftShader, bench/train-browser.ts at 16 units:
  // WebGL 517 vs 1,348 events/s, WebGPU 537 vs 789), and compiling them made the
  // worker's start ~2.3 s slower (bench/runtime.ts: 8.0-8.2 s against 5.5-6.0 s).
  return software.has(backend) ? 'device' : 'resident';
}

const software = new Set<string>();

/**
 * Records whether a GPU backend runs on an emulated (software) device, as its probe found
 * (worker/tf/probe.ts); `kernelFor` gives such a backend the device kernel. Set by the
 * backend trial before it times the backend, so the trial and the training after it ask
 * for the same kernel.
 */
export function markSoftwareBackend(backend: string, isSoftware: boolean): void {
  if (isSoftware) software.add(backend);
  else software.delete(backend);
}
