/**
 * ItemKNN as REFERENCE.md defines it. X = binary user x item fit matrix;
 * sim[a, b] = (XᵀX)[a, b] / (sqrt(n_a n_b) + shrink), zero diagonal, no neighbour limit.
 * Score = Σ_{l=1..L} (1/l) · sim[p_l, ·], p_1 the most recent prefix item, plus
 * 1e-9 · pop / max pop to break ties.
 *
 * Only the co-occurrence counts are stored (CSR, int32: 8 bytes per non-zero); the
 * cosine is applied at query time from 1/sqrt(n) tables, so shrink costs nothing to
 * change and no float64 matrix is kept (phones).
 */
import type { Sequences } from '../scorer';
import { binaryIncidence, type Csr, CsrWriter, checkSequences, itemCounts, maxOf } from './common';
import { checkParam } from './params';
import { BaselineScorer } from './scorer-base';

export interface ItemKNNParams {
  /** Added to the cosine denominator: damps similarities built on few co-occurrences. */
  shrink: number;
  /** How many of the most recent prefix items are used. */
  L: number;
}

export const ITEMKNN_DEFAULTS: ItemKNNParams = { shrink: 0, L: 10 };
export const ITEMKNN_TIE = 1e-9;

/** Co-occurrence counts (XᵀX) without the diagonal, CSR with sorted columns. */
export function cooccurrence(fit: Sequences): { counts: Csr<Int32Array>; support: Float64Array } {
  const inc = binaryIncidence(fit);
  const numItems = fit.numItems;
  const support = new Float64Array(numItems);
  for (let i = 0; i < numItems; i++) support[i] = inc.itemPtr[i + 1] - inc.itemPtr[i];
  const acc = new Int32Array(numItems);
  const touched = new Int32Array(numItems);
  const writer = new CsrWriter(
    numItems,
    (m) => new Int32Array(m),
    Math.max(1024, fit.items.length),
  );
  for (let a = 0; a < numItems; a++) {
    let count = 0;
    for (let q = inc.itemPtr[a]; q < inc.itemPtr[a + 1]; q++) {
      const s = inc.itemSeqs[q];
      for (let j = inc.seqPtr[s]; j < inc.seqPtr[s + 1]; j++) {
        const b = inc.seqItems[j];
        if (acc[b]++ === 0) touched[count++] = b;
      }
    }
    touched.subarray(0, count).sort();
    writer.pushRow(acc, touched, count, a);
    for (let j = 0; j < count; j++) acc[touched[j]] = 0;
  }
  return { counts: writer.finish(), support };
}

export class ItemKNN extends BaselineScorer {
  readonly name = 'itemknn';
  readonly params: Record<string, number>;
  private readonly counts: Csr<Int32Array>;
  private readonly support: Float64Array;
  private readonly base: Float64Array;
  private readonly shrink: number;
  private readonly L: number;

  constructor(fit: Sequences, params: Partial<ItemKNNParams> = {}) {
    checkSequences(fit);
    super(fit.numItems);
    const p = { ...ITEMKNN_DEFAULTS, ...params };
    this.shrink = checkParam('itemknn', 'shrink', p.shrink, { min: 0 });
    this.L = checkParam('itemknn', 'L', p.L, { integer: true, min: 1 });
    this.params = { shrink: this.shrink, L: this.L };
    const { counts, support } = cooccurrence(fit);
    this.counts = counts;
    this.support = support;
    const pop = itemCounts(fit);
    const scale = ITEMKNN_TIE / Math.max(1, maxOf(pop));
    this.base = pop.map((c) => c * scale);
  }

  /** Non-zeros of the co-occurrence matrix (memory: 8 bytes each). */
  get nnz(): number {
    return this.counts.cols.length;
  }

  scores64(prefix: Int32Array): Float64Array {
    const row = this.row64;
    row.set(this.base);
    const { ptr, cols, vals } = this.counts;
    const support = this.support;
    const shrink = this.shrink;
    const last = Math.min(this.L, prefix.length);
    for (let l = 1; l <= last; l++) {
      const a = prefix[prefix.length - l];
      const w = 1 / l;
      const na = support[a];
      for (let j = ptr[a]; j < ptr[a + 1]; j++) {
        const b = cols[j];
        row[b] += (w * vals[j]) / (Math.sqrt(na * support[b]) + shrink);
      }
    }
    return row;
  }
}

export function fitItemKNN(fit: Sequences, params: Partial<ItemKNNParams> = {}): ItemKNN {
  return new ItemKNN(fit, params);
}
