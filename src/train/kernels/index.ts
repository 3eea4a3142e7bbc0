import type { GruConfig } from '../../model/config';
import type { GruArrays } from '../../model/params';
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
export { kernelFor } from './select';

/**
 * A fresh kernel of the given kind with weights `init` (model layout; copied). The
 * resident kernel is not a `StepKernel` (it runs the optimiser too): see resident.ts.
 */
export function createKernel(
  name: Exclude<KernelName, 'resident'>,
  config: GruConfig,
  init: GruArrays,
  timing: KernelTiming,
): StepKernel {
  return name === 'device'
    ? new DeviceKernel(config, init)
    : new HybridKernel(config, init, timing);
}
