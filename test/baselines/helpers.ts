import fc from 'fast-check';
import type { Sequences } from '../../src/core/scorer';

export function seqs(lists: number[][], numItems: number): Sequences {
  const offsets = new Int32Array(lists.length + 1);
  lists.forEach((l, s) => {
    offsets[s + 1] = offsets[s] + l.length;
  });
  return { items: Int32Array.from(lists.flat()), offsets, numItems };
}

/** Random small logs: up to 8 sequences of up to 12 items over `numItems` items. */
export const arbLog = (numItems = 7) =>
  fc.array(fc.array(fc.integer({ min: 0, max: numItems - 1 }), { minLength: 1, maxLength: 12 }), {
    minLength: 1,
    maxLength: 8,
  });

/** Ranking order of a row (indices, best first; ties by index). */
export function order(row: ArrayLike<number>): number[] {
  return Array.from(row, (v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .map(([, i]) => i);
}
