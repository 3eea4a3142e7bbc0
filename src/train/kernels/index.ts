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

/** A fresh kernel of the given kind with weights `init` (model layout; copied). */
export function createKernel(
  name: KernelName,
  config: GruConfig,
  init: GruArrays,
  timing: KernelTiming,
): StepKernel {
  return name === 'device'
    ? new DeviceKernel(config, init)
    : new HybridKernel(config, init, timing);
}
