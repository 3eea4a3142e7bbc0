import type { Buffers } from '../../model/buffers';
import { transposeJs } from '../../model/matmul';

/**
 * The contract of a training loss. A loss sees a score matrix of B rows (the batch's
 * examples) by M columns (the candidate items scored for the batch: the batch's targets
 * and the shared negatives, or every item with a full softmax), and returns the loss
 * summed over rows and dL/dS of the mean loss over rows.
 *
 * Two layouts, side by side in each loss's file:
 * - `rows`: S [B, M] (the device kernel's scores);
 * - `transposed`: Sᵀ [M, B] (the hybrid kernel's scores, see model/step-js.ts); it also
 *   returns the gradient in both layouts (the hybrid backward pass needs both).
 *
 * `targets[b]` is the column of row b's target. `logQ` [M] (or null) is subtracted from
 * the scores by losses with `logQ: true`; `hits` lists accidental hits as (b, j) pairs:
 * columns j ≠ the target that hold row b's target item again, masked out (−1e9).
 *
 * A new loss is one file exporting a `Loss` and one line in `registry.ts`.
 */
export interface Loss {
  /** Its name in `TrainOptions.loss`. */
  readonly name: string;
  /** Whether the sampled-softmax logQ correction (`TrainOptions.logQ`) applies to it. */
  readonly logQ: boolean;
  /**
   * Mean loss of uniform scores over `columns` candidates: the yardstick of the
   * divergence threshold (`TrainOptions.maxLossFactor`).
   */
  chance(columns: number): number;
  rows(
    S: Float32Array,
    B: number,
    M: number,
    targets: Int32Array,
    p: LossParams,
    logQ: Float32Array | null,
    hits: Int32Array | null,
  ): RowLossResult;
  /**
   * `ST` may be overwritten. The gradients may come from `buf` (the step's buffers:
   * valid until its next step).
   */
  transposed(
    ST: Float32Array,
    B: number,
    M: number,
    targets: Int32Array,
    p: LossParams,
    logQ: Float32Array | null,
    hits: Int32Array | null,
    buf?: Buffers,
  ): TransposedLossResult | Promise<TransposedLossResult>;
}

/** Loss settings taken from the train options. */
export interface LossParams {
  /** BPR-max's score regularisation λ. */
  bprReg: number;
  /** ELU on the scores before BPR-max. */
  elu: boolean;
}

export interface RowLossResult {
  lossSum: number;
  /** d(mean loss)/dS, [B, M]. */
  dS: Float32Array;
}

export interface TransposedLossResult extends RowLossResult {
  /** The same gradient transposed, [M, B]. */
  dST: Float32Array;
}

/** The hit pairs as a [B, M] additive mask (0, or −1e9 at each hit); null for none. */
export function hitMask(hits: Int32Array | null, B: number, M: number): Float32Array | null {
  if (!hits) return null;
  const mask = new Float32Array(B * M);
  for (let k = 0; k < hits.length; k += 2) mask[hits[k] * M + hits[k + 1]] = -1e9;
  return mask;
}

/** A transposed form for a loss that has only a row form: transpose in, transpose out. */
export function transposedViaRows(rows: Loss['rows']): Loss['transposed'] {
  return (ST, B, M, targets, p, logQ, hits) => {
    const r = rows(transposeJs(ST, M, B), B, M, targets, p, logQ, hits);
    return { lossSum: r.lossSum, dS: r.dS, dST: transposeJs(r.dS, B, M) };
  };
}
