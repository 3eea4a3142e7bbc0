import type { Sequences } from '../../src/core/scorer';
import { Rng } from '../../src/model/rng';

/** CSR sequences from arrays. */
export function seqs(list: number[][], numItems: number): Sequences {
  const offsets = new Int32Array(list.length + 1);
  const items: number[] = [];
  list.forEach((s, i) => {
    items.push(...s);
    offsets[i + 1] = items.length;
  });
  return { items: Int32Array.from(items), offsets, numItems };
}

/**
 * Planted pattern: random sequences over `numItems` items in which item `a` is always
 * followed by item `b` (b is otherwise never seen after anything else).
 */
export function plantedData(
  numItems: number,
  numSeq: number,
  len: number,
  a: number,
  b: number,
  seed = 1,
): Sequences {
  const rng = new Rng(seed);
  const list: number[][] = [];
  for (let s = 0; s < numSeq; s++) {
    const q: number[] = [];
    while (q.length < len) {
      const v = rng.int(numItems);
      if (v === b) continue;
      q.push(v);
      if (v === a) q.push(b);
    }
    list.push(q);
  }
  return seqs(list, numItems);
}
