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
  /**
   * Truncated backpropagation through time over consecutive steps (prepared with the
   * same weights): forward through all of them (each step's loss right after its
   * forward), then backward from the last to the first, the gradient of each step's
   * output flowing into the step before through the carried state. A row reset inside
   * the window (`batch.resets`: a new session in that slot) passes no gradient back to
   * the previous session; rows dropped (`batch.keep`) pass none either. The state that
   * entered the window is a constant (detached), as in one-step training.
   */
  runWindow(steps: readonly PreparedStep[]): Promise<WindowGrads>;
  /** A copy of the weights in the model's layout. */
  arrays(): GruArrays;
  /** Start of an epoch: hidden state back to zeros. */
  resetHidden(): void;
  /** Free backend state. */
  dispose(): void;
}

/**
 * The step kernels: `hybrid` and `device` implement `StepKernel` (the optimiser in JS);
 * `resident` (resident.ts) keeps the optimiser and the loss on the backend too and has
 * its own surface, driven by the StepRunner.
 */
export type KernelName = 'hybrid' | 'device' | 'resident';

/** Milliseconds a kernel spends in backend matrix products (read by the profiler). */
export interface KernelTiming {
  products: number;
}

/**
 * One step's inputs, prepared in JS (B rows, M candidate columns, H hidden, E input):
 * `xRows` [B, E] input vectors, `colRows` [M, H+1] candidate item rows (output bias last),
 * dropout masks [B, E] / [B, H] or null and where the hidden one applies, and the step's
 * loss in both score layouts.
 */
export interface PreparedStep {
  batch: BatchStep;
  xRows: Float32Array;
  colRows: Float32Array;
  maskIn: Float32Array | null;
  maskH: Float32Array | null;
  /**
   * Whether `maskH` masks the carried state as well as the scores' input (GRU4Rec), or
   * the scores' input only (`TrainOptions.dropoutHiddenOn`).
   */
  maskHOnState: boolean;
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

/** Gradients of a window of steps (`runWindow`). */
export interface WindowGrads {
  /** Per step, in order: its candidate rows' [M, H+1] and input rows' [B, E] gradients. */
  steps: { dColW: Float32Array; dx: Float32Array }[];
  /** GRU weight gradients summed over the window, in the kernel's layout. */
  dwx: Float32Array;
  dwh: Float32Array;
  db: Float32Array;
}

/**
 * dL/do of the previous step's output rows (`prevRows` of them) from dL/dh of the state
 * a step started from (`dh`, [B, H], consumed): reset rows get nothing (their state was
 * zeroed, not carried), `keep` maps rows back to the previous step's rows.
 */
export function carryBack(
  dh: Float32Array,
  batch: BatchStep,
  prevRows: number,
  H: number,
): Float32Array {
  if (batch.resets) for (const r of batch.resets) dh.fill(0, r * H, r * H + H);
  if (!batch.keep) return dh;
  const out = new Float32Array(prevRows * H);
  for (let r = 0; r < batch.keep.length; r++) {
    const o = batch.keep[r] * H;
    for (let c = 0; c < H; c++) out[o + c] += dh[r * H + c];
  }
  return out;
}
