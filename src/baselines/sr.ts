/**
 * SR, sequential rules (Ludewig & Jannach 2018), as REFERENCE.md defines it: over the
 * fit sequences every ordered pair (a at p, b at p + d) of one sequence with
 * 1 <= d <= w adds 1/d to R[a, b]. Score of b after a prefix = R[last item, b]
 * + TIE · pop(b) / (max pop + 1): popularity only breaks ties (TIE = 1e-9 is below the
 * smallest gap between two distinct sums of 1/d for d <= 20, 1/lcm(1..20) ≈ 4.3e-9).
 *
 * R is sparse (CSR, built row by row through a dense accumulator): fit cost
 * O(interactions · w), memory O(nnz).
 */
import type { Sequences } from '../core/scorer';
import type { FitCache } from './cache';
import { type Csr, CsrWriter, checkSequences, itemCounts, maxOf } from './common';
import { checkParam } from './params';
import { BaselineScorer } from './scorer-base';

export interface SRParams {
  /** Window: how many following items a rule reaches. */
  w: number;
}

export const SR_DEFAULTS: SRParams = { w: 20 };
export const SR_TIE = 1e-9;

/** R[a, ·] rows in CSR: for each item, the items following it within w, weight Σ 1/d. */
export function sequentialRules(fit: Sequences, w: number): Csr<Float64Array> {
  const { items, offsets, numItems } = fit;
  const n = items.length;
  // Occurrences of each item (positions), and each position's sequence end.
  const occPtr = new Int32Array(numItems + 1);
  for (let j = 0; j < n; j++) occPtr[items[j] + 1]++;
  for (let i = 0; i < numItems; i++) occPtr[i + 1] += occPtr[i];
  const occ = new Int32Array(n);
  const fill = occPtr.slice(0, numItems);
  const seqEnd = new Int32Array(n);
  for (let s = 0; s + 1 < offsets.length; s++) {
    for (let p = offsets[s]; p < offsets[s + 1]; p++) {
      occ[fill[items[p]]++] = p;
      seqEnd[p] = offsets[s + 1];
    }
  }
  const acc = new Float64Array(numItems);
  const touched = new Int32Array(numItems);
  const writer = new CsrWriter(numItems, (m) => new Float64Array(m), Math.max(1024, n));
  for (let a = 0; a < numItems; a++) {
    let count = 0;
    for (let q = occPtr[a]; q < occPtr[a + 1]; q++) {
      const p = occ[q];
      const end = Math.min(seqEnd[p], p + w + 1);
      for (let r = p + 1; r < end; r++) {
        const b = items[r];
        if (acc[b] === 0) touched[count++] = b;
        acc[b] += 1 / (r - p);
      }
    }
    writer.pushRow(acc, touched, count);
    for (let j = 0; j < count; j++) acc[touched[j]] = 0;
  }
  return writer.finish();
}

/**
 * One row of the rules, R[a, ·], without fitting the others: O(interactions) to find a's
 * occurrences, then O(occurrences · w). Sums in the same order as `sequentialRules`, so
 * the row is bit-identical to that matrix's row.
 */
export function sequentialRulesRow(fit: Sequences, a: number, w: number): Float64Array {
  const { items, offsets, numItems } = fit;
  const row = new Float64Array(numItems);
  for (let s = 0; s + 1 < offsets.length; s++) {
    const end0 = offsets[s + 1];
    for (let p = offsets[s]; p < end0; p++) {
      if (items[p] !== a) continue;
      const end = Math.min(end0, p + w + 1);
      for (let r = p + 1; r < end; r++) row[items[r]] += 1 / (r - p);
    }
  }
  return row;
}

export class SequentialRules extends BaselineScorer {
  readonly name = 'sr';
  readonly params: Record<string, number>;
  private readonly rules: Csr<Float64Array>;
  /** TIE · pop / (max pop + 1): the base row every query starts from. */
  private readonly base: Float64Array;

  constructor(fit: Sequences, params: Partial<SRParams> = {}, cache?: FitCache) {
    checkSequences(fit);
    super(fit.numItems);
    const p = { ...SR_DEFAULTS, ...params };
    checkParam('sr', 'w', p.w, { integer: true, min: 1 });
    this.params = { w: p.w };
    this.rules = cache
      ? cache.get(fit, `sr:rules:${p.w}`, () => sequentialRules(fit, p.w))
      : sequentialRules(fit, p.w);
    const pop = itemCounts(fit);
    const scale = SR_TIE / (maxOf(pop) + 1);
    this.base = pop.map((c) => c * scale);
  }

  /** R[last item of prefix, ·] + popularity tie-break. */
  scores64(prefix: Int32Array): Float64Array {
    const row = this.row64;
    row.set(this.base);
    if (prefix.length === 0) return row;
    const a = prefix[prefix.length - 1];
    const { ptr, cols, vals } = this.rules;
    for (let j = ptr[a]; j < ptr[a + 1]; j++) row[cols[j]] += vals[j];
    return row;
  }
}

export function fitSR(
  fit: Sequences,
  params: Partial<SRParams> = {},
  cache?: FitCache,
): SequentialRules {
  return new SequentialRules(fit, params, cache);
}
