import { type Buffers, freshBuffers } from '../../model/buffers';
import type { GruConfig } from '../../model/config';
import type { GruArrays } from '../../model/params';
import type { SimdKernels, SimdStore } from '../../model/simd';
import { DeviceKernel } from './device';
import { HybridKernel } from './hybrid';
import type { KernelName, KernelTiming, StepKernel } from './kernel';

export type {
  KernelName,
  PreparedStep,
  StepGrads,
  StepKernel,
  StepLoss,
  WindowGrads,
} from './kernel';
export { kernelFor, markSoftwareBackend } from './select';

/**
 * A fresh kernel of the given kind with weights `init` (model layout; copied). The
 * hybrid kernel runs on `simd` when given and keeps its weights in `store` (where the
 * optimiser updates them in WebAssembly) and takes its step's arrays from `buf`; the
 * device kernel uses none of them. The resident kernel is not a `StepKernel` (it runs
 * the optimiser too): see resident.ts.
 */
export function createKernel(
  name: Exclude<KernelName, 'resident'>,
  config: GruConfig,
  init: GruArrays,
  timing: KernelTiming,
  simd: SimdKernels | null,
  store: SimdStore | null,
  buf: Buffers = freshBuffers,
): StepKernel {
  return name === 'device'
    ? new DeviceKernel(config, init)
    : new HybridKernel(config, init, timing, simd, store, buf);
}
