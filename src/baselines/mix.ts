/**
 * SR+ItemKNN: each model's score row is divided by its maximum over the candidate items
 * (the items not in the prefix), then mixed as alpha · SR + (1 − alpha) · ItemKNN
 * (REFERENCE.md). Normalising over candidates only keeps a prefix item's large score
 * from shrinking the row the ranking actually uses. A row whose candidate maximum is not
 * positive is left unscaled (no division by zero).
 */
import type { Sequences } from '../core/scorer';
import type { FitCache } from './cache';
import { checkSequences } from './common';
import { ITEMKNN_DEFAULTS, ItemKNN } from './itemknn';
import { checkParam } from './params';
import { BaselineScorer } from './scorer-base';
import { SequentialRules, SR_DEFAULTS } from './sr';

export interface SRItemKNNParams {
  alpha: number;
  /** SR window. */
  w: number;
  /** ItemKNN shrink. */
  shrink: number;
  /** ItemKNN prefix length. */
  L: number;
}

export const SR_ITEMKNN_DEFAULTS: SRItemKNNParams = {
  alpha: 0.2,
  w: SR_DEFAULTS.w,
  shrink: ITEMKNN_DEFAULTS.shrink,
  L: ITEMKNN_DEFAULTS.L,
};

export class SRItemKNN extends BaselineScorer {
  readonly name = 'sr+itemknn';
  readonly params: Record<string, number>;
  private readonly sr: SequentialRules;
  private readonly knn: ItemKNN;
  private readonly alpha: number;
  private readonly stamp: Int32Array;
  private query = 0;

  constructor(fit: Sequences, params: Partial<SRItemKNNParams> = {}, cache?: FitCache) {
    checkSequences(fit);
    super(fit.numItems);
    const p = { ...SR_ITEMKNN_DEFAULTS, ...params };
    this.alpha = checkParam('sr+itemknn', 'alpha', p.alpha, { min: 0, max: 1 });
    this.sr = new SequentialRules(fit, { w: p.w }, cache);
    this.knn = new ItemKNN(fit, { shrink: p.shrink, L: p.L }, cache);
    this.params = { alpha: this.alpha, w: p.w, shrink: p.shrink, L: p.L };
    this.stamp = new Int32Array(fit.numItems);
  }

  scores64(prefix: Int32Array): Float64Array {
    const q = ++this.query;
    const stamp = this.stamp;
    for (let j = 0; j < prefix.length; j++) stamp[prefix[j]] = q;
    const a = this.sr.scores64(prefix);
    const b = this.knn.scores64(prefix);
    let maxA = -Infinity;
    let maxB = -Infinity;
    const n = this.numItems;
    for (let i = 0; i < n; i++) {
      if (stamp[i] === q) continue;
      if (a[i] > maxA) maxA = a[i];
      if (b[i] > maxB) maxB = b[i];
    }
    const wa = this.alpha / (maxA > 0 ? maxA : 1);
    const wb = (1 - this.alpha) / (maxB > 0 ? maxB : 1);
    const row = this.row64;
    for (let i = 0; i < n; i++) row[i] = wa * a[i] + wb * b[i];
    return row;
  }
}

export function fitSRItemKNN(
  fit: Sequences,
  params: Partial<SRItemKNNParams> = {},
  cache?: FitCache,
): SRItemKNN {
  return new SRItemKNN(fit, params, cache);
}
