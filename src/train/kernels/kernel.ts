import type { GruArrays } from '../../model/params';
import type { BatchStep } from '../batcher';

/**
 * A training-step kernel: the forward pass, the loss and the exact one-step backward
 * pass of the GRU on one prepared mini-batch, with the backend doing what this kernel
 * chooses to give it. Each kernel owns the carried hidden state and the layout of the
 * weights it trains; the StepRunner (train/step.ts) prepares the step's rows and masks
 * before and runs the optimiser on the returned gradients after. Which kernel runs on
 * which backend is decided in one place: `kernelFor` (select.ts).
 */
export interface StepKernel {
  readonly name: KernelName;
  /**
   * The weights in this kernel's layout; the optimiser updates them in place between
   * steps. `items` [N, H+1] and `emb` [N, E] are the model's layout in every kernel.
   */
  readonly weights: GruArrays;
  /** One step: forward, loss (through `step.loss`), backward. Carries the hidden state. */
  run(step: PreparedStep): Promise<StepGrads>;
  /** A copy of the weights in the model's layout. */
  arrays(): GruArrays;
  /** Start of an epoch: hidden state back to zeros. */
  resetHidden(): void;
  /** Free backend state. */
  dispose(): void;
}

export type KernelName = 'hybrid' | 'device';

/** Milliseconds a kernel spends in backend matrix products (read by the profiler). */
export interface KernelTiming {
  products: number;
}

/**
 * One step's inputs, prepared in JS (B rows, M candidate columns, H hidden, E input):
 * `xRows` [B, E] input vectors, `colRows` [M, H+1] candidate item rows (output bias last),
 * dropout masks [B, E] / [B, H] or null, and the step's loss in both score layouts.
 */
export interface PreparedStep {
  batch: BatchStep;
  xRows: Float32Array;
  colRows: Float32Array;
  maskIn: Float32Array | null;
  maskH: Float32Array | null;
  B: number;
  M: number;
  loss: StepLoss;
}

/** The loss of one step (see train/losses/loss.ts), bound to its targets and masks. */
export interface StepLoss {
  /** Scores S [B, M] → dL/dS [B, M]. */
  rows(S: Float32Array): Float32Array;
  /** Scores Sᵀ [M, B] (may be overwritten) → dL/dS in both layouts. */
  transposed(ST: Float32Array): Promise<{ dS: Float32Array; dST: Float32Array }>;
}

/** A step's gradients; `dwx`/`dwh` in the kernel's weight layout. */
export interface StepGrads {
  dColW: Float32Array;
  dx: Float32Array;
  dwx: Float32Array;
  dwh: Float32Array;
  db: Float32Array;
}
