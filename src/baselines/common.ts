/**
 * Shared pieces of the classical baselines: popularity counts, the binary user x item
 * matrix in CSR (and its transpose), and a growable CSR row writer. All typed arrays,
 * no Node APIs.
 */
import { LocalRecError } from '../core/errors';
import type { Sequences } from '../core/scorer';

/** Number of fit interactions of each item (repeats count). */
export function itemCounts(fit: Sequences): Float64Array {
  const pop = new Float64Array(fit.numItems);
  const items = fit.items;
  for (let j = 0; j < items.length; j++) pop[items[j]]++;
  return pop;
}

export function maxOf(a: ArrayLike<number>): number {
  let m = 0;
  for (let j = 0; j < a.length; j++) if (a[j] > m) m = a[j];
  return m;
}

/** Throws INVALID_INPUT unless `fit` is a well-formed CSR over `numItems` items. */
export function checkSequences(fit: Sequences): void {
  const { items, offsets, numItems } = fit;
  if (!Number.isInteger(numItems) || numItems < 0) {
    throw new LocalRecError(
      'INVALID_INPUT',
      `numItems must be a non-negative integer, got ${numItems}`,
    );
  }
  if (offsets.length < 1 || offsets[0] !== 0 || offsets[offsets.length - 1] !== items.length) {
    throw new LocalRecError('INVALID_INPUT', 'offsets must start at 0 and end at items.length');
  }
  for (let s = 1; s < offsets.length; s++) {
    if (offsets[s] < offsets[s - 1])
      throw new LocalRecError('INVALID_INPUT', 'offsets must be non-decreasing');
  }
  for (let j = 0; j < items.length; j++) {
    const i = items[j];
    if (!(i >= 0 && i < numItems)) {
      throw new LocalRecError('INVALID_INPUT', `item ${i} at ${j} is outside 0..${numItems - 1}`, {
        details: { index: j },
      });
    }
  }
}

/** Sparse matrix in CSR form: row r is cols/vals[ptr[r] .. ptr[r + 1]). */
export interface Csr<V extends Float64Array | Float32Array | Int32Array> {
  ptr: Int32Array;
  cols: Int32Array;
  vals: V;
}

/**
 * Binary sets of each sequence (distinct items, ascending) and the transpose: for each
 * item, the sequences that contain it (ascending).
 */
export interface BinaryIncidence {
  /** seqPtr/seqItems: distinct items of sequence s. */
  seqPtr: Int32Array;
  seqItems: Int32Array;
  /** itemPtr/itemSeqs: sequences containing item i. */
  itemPtr: Int32Array;
  itemSeqs: Int32Array;
}

export function binaryIncidence(fit: Sequences): BinaryIncidence {
  const numSeq = fit.offsets.length - 1;
  const numItems = fit.numItems;
  const seen = new Int32Array(numItems).fill(-1);
  const seqPtr = new Int32Array(numSeq + 1);
  const tmp = new Int32Array(fit.items.length);
  let w = 0;
  for (let s = 0; s < numSeq; s++) {
    const start = w;
    for (let p = fit.offsets[s]; p < fit.offsets[s + 1]; p++) {
      const i = fit.items[p];
      if (seen[i] !== s) {
        seen[i] = s;
        tmp[w++] = i;
      }
    }
    tmp.subarray(start, w).sort();
    seqPtr[s + 1] = w;
  }
  const seqItems = tmp.slice(0, w);
  const itemPtr = new Int32Array(numItems + 1);
  for (let j = 0; j < w; j++) itemPtr[seqItems[j] + 1]++;
  for (let i = 0; i < numItems; i++) itemPtr[i + 1] += itemPtr[i];
  const fill = itemPtr.slice(0, numItems);
  const itemSeqs = new Int32Array(w);
  for (let s = 0; s < numSeq; s++) {
    for (let j = seqPtr[s]; j < seqPtr[s + 1]; j++) itemSeqs[fill[seqItems[j]]++] = s;
  }
  return { seqPtr, seqItems, itemPtr, itemSeqs };
}

/** Appends CSR rows of unknown total size, doubling its buffers as needed. */
export class CsrWriter<V extends Float64Array | Float32Array | Int32Array> {
  private cols: Int32Array;
  private vals: V;
  private readonly ptr: Int32Array;
  private nnz = 0;
  private row = 0;

  constructor(
    numRows: number,
    private readonly make: (n: number) => V,
    initial = 1024,
  ) {
    this.ptr = new Int32Array(numRows + 1);
    this.cols = new Int32Array(initial);
    this.vals = make(initial);
  }

  /**
   * Append the next row from a dense accumulator, reading only the `count` columns in
   * `touched` (any order: they are put in ascending order here).
   */
  pushRow(acc: ArrayLike<number>, touched: Int32Array, count: number, skip = -1): void {
    // Ascending columns: sort the touched list when it is short, else scan the dense row
    // (cheaper than sorting once a row holds more than ~1/8 of the columns).
    if (count * 8 > acc.length) {
      let w = 0;
      for (let c = 0; c < acc.length; c++) if (acc[c] !== 0) touched[w++] = c;
      count = w;
    } else {
      touched.subarray(0, count).sort();
    }
    if (this.nnz + count > this.cols.length) {
      let cap = this.cols.length * 2;
      while (cap < this.nnz + count) cap *= 2;
      const cols = new Int32Array(cap);
      cols.set(this.cols.subarray(0, this.nnz));
      const vals = this.make(cap);
      vals.set(this.vals.subarray(0, this.nnz) as never);
      this.cols = cols;
      this.vals = vals;
    }
    for (let j = 0; j < count; j++) {
      const c = touched[j];
      if (c === skip) continue;
      this.cols[this.nnz] = c;
      this.vals[this.nnz] = acc[c];
      this.nnz++;
    }
    this.ptr[++this.row] = this.nnz;
  }

  finish(): Csr<V> {
    return {
      ptr: this.ptr,
      cols: this.cols.slice(0, this.nnz),
      vals: this.vals.slice(0, this.nnz) as V,
    };
  }
}
