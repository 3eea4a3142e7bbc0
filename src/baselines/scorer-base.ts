/**
 * Base of the baselines: subclasses fill a reused float64 row (`scores64`, what eval
 * uses, exact enough for REFERENCE.md's tie-breaks); `scores` is the float32 copy the
 * `Scorer` contract asks for (reused buffer, copy it to keep it).
 */
import type { Scorer } from '../core/scorer';

export abstract class BaselineScorer implements Scorer {
  abstract readonly name: string;
  readonly numItems: number;
  /** Hyper-parameters the scorer was built with (for tables and JSON). */
  abstract readonly params: Record<string, number>;
  protected readonly row64: Float64Array;
  private readonly row32: Float32Array;

  constructor(numItems: number) {
    this.numItems = numItems;
    this.row64 = new Float64Array(numItems);
    this.row32 = new Float32Array(numItems);
  }

  /** Scores in float64 (reused buffer). */
  abstract scores64(prefix: Int32Array): Float64Array;

  scores(prefix: Int32Array): Float32Array {
    this.row32.set(this.scores64(prefix));
    return this.row32;
  }
}
