/** MostPop: score = number of fit interactions of the item (REFERENCE.md). */
import type { Sequences } from '../core/scorer';
import { checkSequences, itemCounts } from './common';
import { BaselineScorer } from './scorer-base';

export class MostPop extends BaselineScorer {
  readonly name = 'pop';
  readonly params: Record<string, number> = {};

  constructor(fit: Sequences) {
    checkSequences(fit);
    super(fit.numItems);
    this.row64.set(itemCounts(fit));
  }

  scores64(_prefix: Int32Array): Float64Array {
    return this.row64;
  }
}

export function fitMostPop(fit: Sequences): MostPop {
  return new MostPop(fit);
}
