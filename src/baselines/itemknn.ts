/**
 * ItemKNN as REFERENCE.md defines it. X = binary user x item fit matrix;
 * sim[a, b] = (XᵀX)[a, b] / (sqrt(n_a n_b) + shrink), zero diagonal, no neighbour limit.
 * Score = Σ_{l=1..L} (1/l) · sim[p_l, ·], p_1 the most recent prefix item, plus
 * 1e-9 · pop / max pop to break ties.
 *
 * The similarity matrix is kept as CSR with float32 values (8 bytes per non-zero,
 * written over the int32 counts in place, so fitting never holds two copies); scores
 * are summed in float64. Fit cost O(Σ_users n_u²).
 *
 * `neighbors` > 0 (not in REFERENCE.md, default 0 = all) keeps only each item's top
 * `neighbors` similarities, built row by row so neither the full matrix nor its counts
 * ever exist: memory O(numItems · neighbors), for phones and large catalogs.
 */
import type { Sequences } from '../core/scorer';
import type { FitCache } from './cache';
import { binaryIncidence, type Csr, CsrWriter, checkSequences, itemCounts, maxOf } from './common';
import { checkParam } from './params';
import { BaselineScorer } from './scorer-base';

export interface ItemKNNParams {
  /** Added to the cosine denominator: damps similarities built on few co-occurrences. */
  shrink: number;
  /** How many of the most recent prefix items are used. */
  L: number;
  /** Keep only each item's most similar `neighbors` items (0 = keep all). */
  neighbors: number;
}

export const ITEMKNN_DEFAULTS: ItemKNNParams = { shrink: 0, L: 10, neighbors: 0 };
export const ITEMKNN_TIE = 1e-9;

/**
 * Co-occurrence counts (XᵀX) without the diagonal, CSR with sorted columns.
 *
 * Symmetry halves the work: the upper triangle (b > a) is counted first, with one cursor
 * per sequence that walks its sorted item list as a grows (Σ_u n_u² / 2 increments), then
 * mirrored into full rows.
 */
export function cooccurrence(fit: Sequences): { counts: Csr<Int32Array>; support: Float64Array } {
  const inc = binaryIncidence(fit);
  const numItems = fit.numItems;
  const numSeq = inc.seqPtr.length - 1;
  const support = new Float64Array(numItems);
  for (let i = 0; i < numItems; i++) support[i] = inc.itemPtr[i + 1] - inc.itemPtr[i];
  const acc = new Int32Array(numItems);
  const touched = new Int32Array(numItems);
  const upperWriter = new CsrWriter(
    numItems,
    (m) => new Int32Array(m),
    Math.max(1024, fit.items.length),
  );
  // cursor[s] = index in seqItems of the smallest item of s not yet processed
  const cursor = inc.seqPtr.slice(0, numSeq);
  for (let a = 0; a < numItems; a++) {
    let count = 0;
    for (let q = inc.itemPtr[a]; q < inc.itemPtr[a + 1]; q++) {
      const s = inc.itemSeqs[q];
      const end = inc.seqPtr[s + 1];
      for (let j = ++cursor[s]; j < end; j++) {
        const b = inc.seqItems[j];
        if (acc[b]++ === 0) touched[count++] = b;
      }
    }
    upperWriter.pushRow(acc, touched, count);
    for (let j = 0; j < count; j++) acc[touched[j]] = 0;
  }
  const upper = upperWriter.finish();
  // Mirror: row r = (entries U[a, r] for a < r, ascending a) then U[r, ·].
  const ptr = new Int32Array(numItems + 1);
  for (let a = 0; a < numItems; a++) {
    ptr[a + 1] += upper.ptr[a + 1] - upper.ptr[a];
    for (let j = upper.ptr[a]; j < upper.ptr[a + 1]; j++) ptr[upper.cols[j] + 1]++;
  }
  for (let r = 0; r < numItems; r++) ptr[r + 1] += ptr[r];
  const nnz = ptr[numItems];
  const cols = new Int32Array(nnz);
  const vals = new Int32Array(nnz);
  const fill = ptr.slice(0, numItems);
  for (let a = 0; a < numItems; a++) {
    // every lower entry of row a came from a row < a: already written
    for (let j = upper.ptr[a]; j < upper.ptr[a + 1]; j++) {
      const b = upper.cols[j];
      const c = upper.vals[j];
      cols[fill[a]] = b;
      vals[fill[a]++] = c;
      cols[fill[b]] = a;
      vals[fill[b]++] = c;
    }
  }
  return { counts: { ptr, cols, vals }, support };
}

/**
 * Each item's `k` most similar items (cosine with shrink), row by row: the row's
 * co-occurrences are counted in a dense accumulator, turned into similarities, cut to
 * the k largest (ties at the cut go to lower item indices) and appended to the CSR.
 */
export function topNeighbours(fit: Sequences, shrink: number, k: number): Csr<Float32Array> {
  const inc = binaryIncidence(fit);
  const n = fit.numItems;
  const support = new Float64Array(n);
  for (let i = 0; i < n; i++) support[i] = inc.itemPtr[i + 1] - inc.itemPtr[i];
  const acc = new Int32Array(n);
  const touched = new Int32Array(n);
  const kept = new Int32Array(n);
  const simRow = new Float64Array(n);
  const sorted = new Float64Array(n);
  const writer = new CsrWriter(n, (m) => new Float32Array(m), Math.max(16, n * Math.min(k, 64)));
  for (let a = 0; a < n; a++) {
    let count = 0;
    for (let q = inc.itemPtr[a]; q < inc.itemPtr[a + 1]; q++) {
      const s = inc.itemSeqs[q];
      for (let j = inc.seqPtr[s]; j < inc.seqPtr[s + 1]; j++) {
        const b = inc.seqItems[j];
        if (acc[b]++ === 0) touched[count++] = b;
      }
    }
    const row = touched.subarray(0, count);
    row.sort();
    let m = 0;
    for (let t = 0; t < count; t++) {
      const b = row[t];
      if (b === a) continue;
      const sim = acc[b] / (Math.sqrt(support[a] * support[b]) + shrink);
      simRow[b] = sim;
      sorted[m++] = sim;
    }
    let keptCount = 0;
    if (m <= k) {
      for (let t = 0; t < count; t++) if (row[t] !== a) kept[keptCount++] = row[t];
    } else {
      const top = sorted.subarray(0, m);
      top.sort();
      const cut = top[m - k];
      let above = 0;
      for (let j = m - k; j < m; j++) if (top[j] > cut) above++;
      let atCut = k - above;
      for (let t = 0; t < count; t++) {
        const b = row[t];
        if (b === a) continue;
        if (simRow[b] > cut || (simRow[b] === cut && atCut-- > 0)) kept[keptCount++] = b;
        else simRow[b] = 0;
      }
    }
    simRow[a] = 0;
    writer.pushRow(simRow, kept, keptCount);
    for (let t = 0; t < count; t++) {
      acc[row[t]] = 0;
      simRow[row[t]] = 0;
    }
  }
  return writer.finish();
}

export class ItemKNN extends BaselineScorer {
  readonly name = 'itemknn';
  readonly params: Record<string, number>;
  private readonly sim: Csr<Float32Array>;
  private readonly base: Float64Array;
  private readonly shrink: number;
  private readonly L: number;

  /** With a `cache`, the co-occurrence counts are shared (and not overwritten). */
  constructor(fit: Sequences, params: Partial<ItemKNNParams> = {}, cache?: FitCache) {
    checkSequences(fit);
    super(fit.numItems);
    const p = { ...ITEMKNN_DEFAULTS, ...params };
    this.shrink = checkParam('itemknn', 'shrink', p.shrink, { min: 0 });
    this.L = checkParam('itemknn', 'L', p.L, { integer: true, min: 1 });
    const neighbors = checkParam('itemknn', 'neighbors', p.neighbors ?? 0, {
      integer: true,
      min: 0,
    });
    this.params = { shrink: this.shrink, L: this.L, neighbors };
    if (neighbors > 0) {
      this.sim = topNeighbours(fit, this.shrink, neighbors);
    } else {
      const { counts, support } = cache
        ? cache.get(fit, 'itemknn:cooccurrence', () => cooccurrence(fit))
        : cooccurrence(fit);
      // cosine with shrinkage, written over the counts (same 4 bytes per value) unless shared
      const sim = cache
        ? new Float32Array(counts.vals.length)
        : new Float32Array(counts.vals.buffer, counts.vals.byteOffset, counts.vals.length);
      const { ptr, cols, vals } = counts;
      for (let a = 0; a < fit.numItems; a++) {
        for (let j = ptr[a]; j < ptr[a + 1]; j++) {
          sim[j] = vals[j] / (Math.sqrt(support[a] * support[cols[j]]) + this.shrink);
        }
      }
      this.sim = { ptr, cols, vals: sim };
    }
    const pop = itemCounts(fit);
    const scale = ITEMKNN_TIE / Math.max(1, maxOf(pop));
    this.base = pop.map((c) => c * scale);
  }

  /** Stored similarities (memory: 8 bytes each). */
  get nnz(): number {
    return this.sim.cols.length;
  }

  scores64(prefix: Int32Array): Float64Array {
    const row = this.row64;
    row.set(this.base);
    const { ptr, cols, vals } = this.sim;
    const last = Math.min(this.L, prefix.length);
    for (let l = 1; l <= last; l++) {
      const a = prefix[prefix.length - l];
      const w = 1 / l;
      for (let j = ptr[a]; j < ptr[a + 1]; j++) row[cols[j]] += w * vals[j];
    }
    return row;
  }
}

export function fitItemKNN(
  fit: Sequences,
  params: Partial<ItemKNNParams> = {},
  cache?: FitCache,
): ItemKNN {
  return new ItemKNN(fit, params, cache);
}
